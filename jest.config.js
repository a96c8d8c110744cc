/** Jest runs TypeScript through ts-jest; every suite lives in tests/. */
module.exports = {
    preset: "ts-jest",
    testEnvironment: "node",
    roots: ["<rootDir>/tests"],
    testMatch: ["**/*.test.ts"],
    // The mock runtime evaluates the whole program; real key generation and child processes need room.
    testTimeout: 120000,
    reporters: ["default", "<rootDir>/tests/support/summaryReporter.js"],
    transform: {
        "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: { warnOnly: false } }],
    },
};
