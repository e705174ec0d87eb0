"""Collection rules for the whole checkout: modules of optional extras that are absent."""

import importlib.util

# ``--doctest-modules`` imports every module; these raise MissingDependencyError by design
# where Ray (the ``ray`` extra) is not installed.
collect_ignore = (
    []
    if importlib.util.find_spec("ray")
    else ["src/claudevision/ray.py", "src/claudevision/_send/ray.py"]
)
