// Runs Azurite as a child that dies with the process that started it (local/azurite.py).
//
// That process holds the write end of our stdin and never writes to it. When it exits, however it exits
// (SIGTERM, SIGKILL, a crash), the kernel closes the pipe and stdin reaches end-of-file: we stop too, so no
// orphaned Azurite keeps its ports. Usage: node azurite_child.js <path of azurite.js> [azurite options...]
"use strict";

const main = process.argv.splice(2, 1)[0]; // Azurite then reads its own options from process.argv as usual
const stop = () => process.exit(0);
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();
require(main);
