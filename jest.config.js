/** Jest runs TypeScript through ts-jest; every suite lives in tests/. */
module.exports = {
    preset: "ts-jest",
    // jest's node environment, which also traces where each worker is when ELK_TEST_TRACE names a directory.
    testEnvironment: "<rootDir>/tests/support/environment.js",
    roots: ["<rootDir>/tests"],
    testMatch: ["**/*.test.ts"],
    // The mock runtime evaluates the whole program; real key generation and child processes need room.
    testTimeout: 120000,
    // Four workers on the 2-core machines CI and developers use (jest's default there is one): many files mostly wait
    // on real processes and timers (Python and Django, nginx, openssl, bash and curl, the pack runner), so more workers
    // than cores fill the cores while some wait. On the quiet 2-core machine (2026-12-06, 1263 tests), once the run
    // needed about 200 s of CPU with three workers instead of 250 to 275 s: 134 s with three, 113 to 116 s with four
    // (which need about 210 s of CPU).
    // While it needed more, a fourth did not help (141 s, against 139 to 159 s with three): the run was CPU-bound.
    maxWorkers: 4,
    // Fills the RSA key pool the real TLS mock draws from (tests/support/keyPool.ts) when it is missing, and keeps
    // each program evaluation for the other test files of the run (tests/support/programMemo.ts).
    globalSetup: "<rootDir>/tests/support/globalSetup.ts",
    globalTeardown: "<rootDir>/tests/support/globalTeardown.ts",
    // The summary line CI logs are read for, and a watchdog that ends a run that stopped making progress (a worker
    // jest's own timeouts cannot reach), naming the test files it was running.
    reporters: ["default", "<rootDir>/tests/support/summaryReporter.js", "<rootDir>/tests/support/stallReporter.js"],
    // Each file is compiled on its own, without a type check: `npm run build` type-checks tests and sources
    // with tsconfig.json first (.ci/run does both), so the suite does not pay for it once per test file.
    transform: {
        "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.jest.json" }],
    },
};
