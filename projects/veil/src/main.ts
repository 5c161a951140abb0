// Entry point of the all-in-one deployable. The query API, worker and embedded store arrive with the
// query-API issue; until then `npm start` says what Veil is and exits cleanly.
const lines = [
  'Veil: differentially private analytics over sensitive data where it lives.',
  'Data owners register datasets; analysts get noisy answers paid for from a privacy budget.',
  'The server is not wired up yet: see README.md for what exists and `npm test` to check it.',
];
console.log(lines.join('\n'));
