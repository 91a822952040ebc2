// The chosen start time, said beside the button as soon as it is chosen
// ("Wed Dec 2, 10:00 AM, 60 min, $95"). Without scripts the page says it after
// each reload; nothing depends on this file.
(function () {
  var summary = document.getElementById("choice-summary");
  if (!summary) return;
  document.querySelectorAll('input[type=radio][name=start]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (radio.checked) summary.textContent = radio.dataset.summary;
    });
  });
  var errors = document.getElementById("error-summary");
  if (errors) errors.focus();
})();
