// The API reference (/api/docs): Swagger UI on the published schema. A file, not an inline
// script, so the Content-Security-Policy can forbid inline scripts everywhere.
"use strict";
window.ui = SwaggerUIBundle({
  url: document.getElementById("swagger-ui").dataset.url,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
