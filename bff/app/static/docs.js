// Starts Swagger UI on /docs. A file of its own, not an inline script: the page's Content-Security-Policy
// allows scripts from the BFF only. openapi.json sits beside /docs, wherever the BFF is mounted.
window.addEventListener("load", function () {
  var url = location.pathname.replace(/docs\/?$/, "openapi.json");
  window.ui = SwaggerUIBundle({url: url, dom_id: "#swagger-ui", validatorUrl: null, deepLinking: true});
});
