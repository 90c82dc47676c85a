#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --json]`: the standard configurations on every backend that loads
// (the same as `rnnkit bench`). Uses the built dist/ (npm install builds it).
import { formatBench, runBench } from '../dist/bench/index.js';

const args = new Set(process.argv.slice(2));
const json = args.has('--json');
const result = await runBench({ quick: args.has('--quick'), log: json ? undefined : (line) => console.error(line) });
console.log(json ? JSON.stringify(result) : formatBench(result));
