#!/usr/bin/env node
// Thin shim: all behaviour lives in the compiled CLI module.
import { runCli } from '../dist/cli/main.js';

process.exitCode = await runCli();
