// Starts Swagger UI on the modelhost API documentation page (/docs).
// It lives in a file of its own, not in the page, so that the page works
// under a Content-Security-Policy that allows no inline script.
"use strict";

window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    // The host's own document, generated from the models it serves now.
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Show each operation's request duration after "Try it out".
    displayRequestDuration: true,
    // Never send the document to an outside validator service.
    validatorUrl: null,
    // Models are described by the operations' schemas; the long list of
    // every component at the end of the page adds little.
    defaultModelsExpandDepth: 0,
  });
});
