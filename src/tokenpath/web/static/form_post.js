// OAuth 2.0 Form Post Response Mode: submit the response form as soon as the page loads.
// An external file (not inline script), so the page keeps a strict Content-Security-Policy.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.form-post");
  if (form) {
    form.submit();
  }
});
