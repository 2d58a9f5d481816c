import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		env: {FORCE_COLOR: '0', NO_COLOR: '1'},
		include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.{ts,tsx}'],
		globalSetup: ['test/global-setup.ts'],
		testTimeout: 30_000,
		hookTimeout: 60_000,
	},
});
