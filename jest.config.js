/** Jest runs TypeScript through ts-jest; every suite lives in tests/. */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/tests"],
    testMatch: ["**/*.test.ts"],
    // The mock runtime evaluates the whole program; real key generation and child processes need room.
    testTimeout: 120000,
    reporters: ["default", "<rootDir>/tests/support/summaryReporter.js"],
    // Each file is compiled on its own, without a type check: `npm run build` type-checks tests and sources
    // with tsconfig.json first (.ci/run does both), so the suite does not pay for it once per test file.
    transform: {
        "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.jest.json" }],
    },
};
