// Copy buttons: <button data-copy="#id"> copies that element's text and says so.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    const source = document.querySelector(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    navigator.clipboard.writeText(source.textContent).then(
      function () { button.textContent = "Copied"; },
      function () { button.textContent = "Select and copy it by hand"; }
    ).finally(function () {
      setTimeout(function () { button.textContent = label; }, 2000);
    });
  });
})();
