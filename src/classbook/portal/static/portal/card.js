/* A new card in the portal (checkout, paying a balance, saving a card).
 *
 * The card is typed into the gateway's own element (Stripe.js, or localstripe's stand-in
 * in the demo and tests), confirmed with a SetupIntent (confirmCardSetup) and only the
 * payment-method id is put in the form and posted. A second click while this runs is
 * ignored; the server also refuses a second payment for the same checkout.
 */
(function () {
  "use strict";
  const form = document.getElementById("card-form");
  if (!form) return;
  const button = form.querySelector("[data-pay-button]");
  const errorBox = document.getElementById("card-error");
  const progress = document.getElementById("card-progress");
  const panel = document.getElementById("new-card-panel");
  const pmField = form.querySelector("input[name=payment_method_id]");
  let busy = false;
  let cardElement = null;
  let stripe = null;

  function chosen() {
    const radio = form.querySelector("input[name=method]:checked");
    if (radio) return radio.value;
    return form.dataset.alwaysNew ? "new" : "";
  }

  function mount() {
    if (cardElement || typeof Stripe === "undefined" || !panel) return;
    stripe = Stripe(form.dataset.publishableKey);
    cardElement = stripe.elements().create("card");
    cardElement.mount("#card-element");
  }

  function showPanel() {
    if (!panel) return;
    panel.hidden = chosen() !== "new";
    if (!panel.hidden) mount();
  }

  function fail(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    if (progress) progress.textContent = "";
    button.disabled = false;
    busy = false;
    errorBox.focus();
  }

  form.querySelectorAll("input[name=method]").forEach((radio) => radio.addEventListener("change", showPanel));
  showPanel();
  errorBox.tabIndex = -1;

  form.addEventListener("submit", async (event) => {
    if (busy) {
      event.preventDefault();
      return;
    }
    busy = true;
    button.disabled = true;
    if (chosen() !== "new" || (pmField.value || "").startsWith("pm_")) {
      if (progress) progress.textContent = "Working… please wait, do not press again.";
      return; // a saved card or pay later: the server does the rest
    }
    event.preventDefault();
    errorBox.hidden = true;
    if (!cardElement) {
      fail("The card field could not load. Check your connection and reload the page.");
      return;
    }
    if (progress) progress.textContent = "Checking the card with the card processor…";
    let secret;
    try {
      const response = await fetch(form.dataset.setupUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": form.querySelector("input[name=csrfmiddlewaretoken]").value },
      });
      const answer = await response.json();
      if (answer.error) return fail(answer.error);
      secret = answer.client_secret;
    } catch (error) {
      return fail("We could not reach the server. Nothing was charged; try again.");
    }
    const result = await stripe.confirmCardSetup(secret, { payment_method: { card: cardElement } });
    if (result.error) {
      return fail((result.error && result.error.message) || "The card was not accepted.");
    }
    const intent = result.setupIntent || {};
    const method = typeof intent.payment_method === "string" ? intent.payment_method : (intent.payment_method || {}).id;
    if (!method) return fail("The card processor did not return the card. Nothing was charged.");
    pmField.value = method;
    if (progress) progress.textContent = "Paying… please wait, do not press again.";
    form.submit();
  });
})();
