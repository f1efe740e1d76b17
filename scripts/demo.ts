// `npm run demo [-- [names…] [--url <url>]]`: the demos of apps/demos (see apps/demos/README.md).
await import('../apps/demos/src/main.js')
