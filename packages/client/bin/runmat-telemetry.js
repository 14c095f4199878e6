#!/usr/bin/env node
// Committed shim so pnpm can link the bin before the package is built.
import '../dist/cli.js';
