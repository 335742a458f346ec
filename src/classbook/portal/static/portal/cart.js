/* The cart's reservation countdown. The server's expiry is the truth: the page starts
 * from it (corrected for this device's clock), asks the server again every so often
 * without extending anything, and when it reaches zero reloads the cart, where the server
 * releases the expired seats and says so. Screen readers hear the time left at each
 * minute and in the last 30 seconds, not every second. */
(function () {
  "use strict";
  const box = document.getElementById("cart-timer");
  if (!box) return;
  const display = box.querySelector(".cb-timer");
  const announce = document.getElementById("cart-timer-announce");
  const skew = Date.parse(box.dataset.now) - Date.now(); // server minus device
  let expires = Date.parse(box.dataset.expiresAt);
  let lastMinute = null;
  let gone = false;
  display.hidden = false;

  function msLeft() {
    return expires - (Date.now() + skew);
  }

  function tick() {
    const ms = msLeft();
    const seconds = Math.max(0, Math.ceil(ms / 1000));
    const minutes = Math.floor(seconds / 60);
    display.textContent = minutes + ":" + String(seconds % 60).padStart(2, "0");
    if (minutes !== lastMinute && seconds > 30) {
      lastMinute = minutes;
      announce.textContent = minutes + (minutes === 1 ? " minute" : " minutes") + " left to check out.";
    } else if (seconds === 30 || seconds === 10) {
      announce.textContent = seconds + " seconds left to check out.";
    }
    // A second past the server's expiry, so the server surely sees the seats expired
    // (a reload a moment early would only extend them again).
    if (ms <= -1000 && !gone) {
      gone = true;
      window.location.assign(box.dataset.expiredUrl);
    }
  }

  async function sync() {
    try {
      const response = await fetch(box.dataset.statusUrl, { credentials: "same-origin" });
      const state = await response.json();
      if (state.expires_at) {
        expires = Date.parse(state.expires_at);
      } else {
        expires = Date.now() + skew; // nothing held any more: show the server's answer
      }
    } catch (error) {
      /* offline for a moment: keep counting from what we know */
    }
  }

  const every = parseInt(box.dataset.syncSeconds || "15", 10) * 1000;
  tick();
  setInterval(tick, 1000);
  setInterval(sync, every);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) sync().then(tick);
  });
})();
