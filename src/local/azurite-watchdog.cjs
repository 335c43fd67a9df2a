// Preloaded (`node --require`) into each Azurite that azurite.ts starts: when the process that started it
// (`npm start`, a test, the bench) is gone — even killed without running its exit handlers — the stdin pipe it
// held reaches its end, and Azurite is told to shut down as if stop() had been called. The unref'd pipe never
// keeps Azurite alive.
process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.on('error', () => process.kill(process.pid, 'SIGTERM'));
process.stdin.resume();
process.stdin.unref();
