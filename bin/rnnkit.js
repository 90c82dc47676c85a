#!/usr/bin/env node
// Thin shim: the CLI lives in src/cli/main.ts (compiled to dist/).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
