// ESLint: the mistakes a type check lets through. Formatting is Prettier's (.prettierrc).
import tseslint from "typescript-eslint"

export default tseslint.config(
  {
    ignores: [
      // Medusa's builds and generated types, wherever an app of the repository puts them (the demo's playground/.medusa).
      "**/.medusa/**",
      "node_modules/**",
      "**/*.js",
      "**/*.mjs",
    ],
  },
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // A promise nobody awaits fails unseen: await it, or say `void` where running on is the point.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": [
        "error",
        { checksVoidReturn: false },
      ],
      // An empty catch swallows the error: log it, or say why nothing is to be done.
      "no-empty": ["error", { allowEmptyCatch: false }],
      "@typescript-eslint/no-explicit-any": "warn",
    },
  }
)
