// The TypeScript SDK against the local server: node client.mjs BASE_URL, prints JSON results.
import Anthropic from "@anthropic-ai/sdk";

const baseURL = process.argv[2];
const client = new Anthropic({ apiKey: "test-key", baseURL, maxRetries: 3 });
const model = "claude-sonnet-4-6";
const messages = [{ role: "user", content: "Describe the weather at length." }];
const control = (path, body) =>
  fetch(`${baseURL}/_control/${path}`, { method: "POST", body: JSON.stringify(body) });

const plain = await client.messages.create({ model, max_tokens: 1000, messages });
const stream = client.messages.stream({ model, max_tokens: 1000, messages });
const streamed = await stream.finalMessage();

const schema = {
  type: "object",
  properties: { city: { type: "string" }, days: { type: "integer", minimum: 1 } },
  required: ["city", "days"],
};
const forced = await client.messages.create({
  model,
  max_tokens: 1000,
  messages,
  tools: [{ name: "forecast", input_schema: schema }],
  tool_choice: { type: "tool", name: "forecast" },
});

await control("faults", { status: 529, times: 2, retry_after: 0.01 });
const retried = await client.messages.create({ model, max_tokens: 50, messages });

let badRequest = null;
try {
  await client.messages.create({ model, max_tokens: -1, messages });
} catch (error) {
  badRequest = { status: error.status, type: error.error?.error?.type, requestId: error.requestID };
}

const models = [];
for await (const info of client.models.list({ limit: 2 })) models.push(info.id);

console.log(
  JSON.stringify({
    plainUsage: plain.usage,
    streamedUsage: streamed.usage,
    forced: forced.content[0],
    forcedStop: forced.stop_reason,
    retried: retried.content[0].type,
    badRequest,
    models,
  }),
);
