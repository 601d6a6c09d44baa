// The exam page's countdown and heartbeat. The server decides every deadline; this only shows
// the time it sent, reloads when it is up, and says when the connection is lost.
(function () {
  "use strict";
  var timer = document.getElementById("timer");
  if (!timer) return;
  var clock = document.getElementById("clock");
  var offline = document.getElementById("offline");
  var position = timer.dataset.position;
  var end = performance.now() + parseFloat(timer.dataset.remaining) * 1000;

  function show(seconds) {
    var s = Math.max(0, Math.ceil(seconds));
    clock.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    if (s <= 10) timer.classList.add("low");
  }

  function tick() {
    var left = (end - performance.now()) / 1000;
    show(left);
    if (left <= -0.3) {  // a little after the server's deadline: it has closed the question
      moveOn();
      return;
    }
    setTimeout(tick, 200);
  }

  function moveOn() {  // reload only once the server answers, so an outage shows no error page
    fetch("/exam/ping", { cache: "no-store", credentials: "same-origin" })
      .then(function () { location.replace("/exam"); })
      .catch(function () { offline.hidden = false; setTimeout(moveOn, 3000); });
  }

  function beat() {
    fetch("/exam/ping", { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (state) {
        offline.hidden = true;
        if (String(state.position) !== position) location.replace("/exam");
        else if (state.remaining !== null) end = performance.now() + state.remaining * 1000;
      })
      .catch(function () { offline.hidden = false; });
  }
  tick();
  setInterval(beat, 10000);

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var i = "abcdef".indexOf(e.key);
    if (i < 0) return;
    var radios = document.querySelectorAll("input[name=choice]");
    if (radios[i]) { radios[i].checked = true; radios[i].focus(); }
  });
})();
