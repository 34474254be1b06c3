/* Task forms (_form.html): a field group with data-show-field / data-show-value (e.g. the
   proxy's details on the pickup form) is shown only while that answer is chosen. Without
   this script every group stays visible; the server checks a group's fields only for its
   answer either way. A file of its own: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";
  function chosen(form, name) {
    var checked = form.querySelector('input[name="' + name + '"]:checked');
    if (checked) { return checked.value; }
    var field = form.querySelector('select[name="' + name + '"]');
    return field ? field.value : null;
  }
  function update(form) {
    var groups = form.querySelectorAll("fieldset[data-show-field]");
    for (var i = 0; i < groups.length; i++) {
      var group = groups[i];
      var shown = chosen(form, group.getAttribute("data-show-field")) === group.getAttribute("data-show-value");
      group.hidden = !shown;
    }
  }
  function init() {
    var groups = document.querySelectorAll("fieldset[data-show-field]");
    var forms = [];
    for (var i = 0; i < groups.length; i++) {
      var form = groups[i].form || groups[i].closest("form");
      if (form && forms.indexOf(form) < 0) { forms.push(form); }
    }
    forms.forEach(function (form) {
      update(form);
      form.addEventListener("change", function () { update(form); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
