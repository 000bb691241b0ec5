// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Show/hide toggles for password fields.
  document.querySelectorAll("input[type=password][data-toggle]").forEach(function (input) {
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "password-toggle";
    btn.textContent = input.dataset.show || "Show";
    btn.setAttribute("aria-controls", input.id);
    btn.addEventListener("click", function () {
      var hidden = input.type === "password";
      input.type = hidden ? "text" : "password";
      btn.textContent = hidden ? (input.dataset.hide || "Hide") : (input.dataset.show || "Show");
    });
    input.parentNode.appendChild(btn);
  });
  // Forms with data-confirm ask before submitting.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });
})();
