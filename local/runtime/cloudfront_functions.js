// Runs CloudFront Functions (cloudfront-js-2.0) for the local web front: one JSON request per
// line on stdin ({code, event}), one JSON answer per line on stdout ({result} or {error}).
"use strict";
const readline = require("readline");

const compiled = new Map();

function handlerOf(code) {
  if (!compiled.has(code)) {
    // The function's source defines `handler`, as CloudFront's runtime expects.
    compiled.set(code, new Function(`${code}\nreturn handler;`)());
  }
  return compiled.get(code);
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  let answer;
  try {
    const { code, event } = JSON.parse(line);
    answer = { result: await handlerOf(code)(event) };
  } catch (error) {
    answer = { error: `${error && error.name}: ${error && error.message}` };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
});
