"""Core: what every stage shares, and no stage's work.

Takes nothing and does no I/O. Gives the errors (``exceptions``, whose docstring draws
the hierarchy), every number the API imposes (``limits``), models and prices
(``models``), media types (``media``), the resize rule and tokens (``geometry``),
coordinate transforms (``transform``), the SDK's dict shapes (``blocks``) and the
step types (``steps``): values and pure functions.

Never imports another stage, the public modules, or the ``anthropic`` SDK at run time.
"""
