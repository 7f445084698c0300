// /api/v1/docs: Redoc reads the OpenAPI document named by the page (no inline script: the CSP allows none).
(function () {
  var element = document.getElementById("api-reference");
  if (element && window.Redoc) {
    window.Redoc.init(element.getAttribute("data-spec-url"), { hideDownloadButton: false }, element);
  }
})();
