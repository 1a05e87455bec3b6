// Starts Swagger UI on /docs. The bundle shipped in the lock (swagger-ui 4) reads OpenAPI
// 3.0 only; the document is 3.1, whose additions it shows well enough when told it is 3.0.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    validatorUrl: null, // the default would send the document to validator.swagger.io
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    responseInterceptor: function (response) {
      if (response.body && typeof response.body.openapi === "string") {
        response.body.openapi = "3.0.3";
        response.text = JSON.stringify(response.body);
        response.data = response.text;
      }
      return response;
    },
  });
})();
