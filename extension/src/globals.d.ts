// The one browser-API shim (browser-api.js) as every script sees it.
declare var lensApi: typeof chrome;
