/* Card entry on the office payment pages.
 *
 * The card never reaches Classbook: it is typed into the gateway's own field (Stripe.js,
 * or localstripe's stand-in in the demo and tests) or read from a USB swiper here in the
 * browser, then sent to the gateway with a SetupIntent (confirmCardSetup). Only the
 * payment-method id the gateway returns is put into the form and posted. The swipe and
 * security-code inputs have no name, so they are never part of the form data.
 */
(function () {
  "use strict";

  /* A USB swiper in keyboard mode types track 1 and/or track 2, then Enter:
   *   %B4242424242424242^DOE/JANE^30121010000000000000?;4242424242424242=3012101...?
   * Returns {number, exp_month, exp_year, name} or null. */
  function parseSwipe(text) {
    const value = (text || "").trim();
    const track1 = /%B(\d{12,19})\^([^^]*)\^(\d{2})(\d{2})/.exec(value);
    if (track1) {
      return {
        number: track1[1],
        exp_year: "20" + track1[3],
        exp_month: track1[4],
        name: cardholder(track1[2]),
      };
    }
    const track2 = /;(\d{12,19})=(\d{2})(\d{2})/.exec(value);
    if (track2) {
      return { number: track2[1], exp_year: "20" + track2[2], exp_month: track2[3], name: "" };
    }
    return null;
  }

  function cardholder(raw) {
    const parts = raw.trim().split("/");
    const words = parts.length === 2 ? [parts[1], parts[0]] : [raw];
    return words
      .join(" ")
      .trim()
      .toLowerCase()
      .replace(/\b\w/g, (c) => c.toUpperCase());
  }

  function luhn(number) {
    let sum = 0;
    for (let i = 0; i < number.length; i++) {
      let digit = parseInt(number[number.length - 1 - i], 10);
      if (i % 2 === 1) {
        digit *= 2;
        if (digit > 9) digit -= 9;
      }
      sum += digit;
    }
    return sum % 10 === 0;
  }

  window.classbookParseSwipe = parseSwipe; // for tests in the browser

  const form = document.getElementById("card-payment-form");
  if (!form || typeof Stripe === "undefined") return;

  const stripe = Stripe(form.dataset.publishableKey);
  const cardElement = stripe.elements().create("card");
  cardElement.mount("#card-element");
  // A card tokenized for an earlier submit is used again only while nothing new is typed.
  cardElement.on("change", () => {
    form.querySelector("input[name=payment_method_id]").value = "";
  });

  const pmField = form.querySelector("input[name=payment_method_id]");
  const button = document.getElementById("charge-button");
  const errorBox = document.getElementById("card-error");
  const progress = document.getElementById("card-progress");
  const newPanel = document.getElementById("new-card-panel");
  const swipePanel = document.getElementById("swipe-panel");
  const saveOptions = document.getElementById("save-card-options");
  const swipeInput = document.getElementById("swipe-input");
  const swipeCvc = document.getElementById("swipe-cvc");
  const swipeRead = document.getElementById("swipe-read");
  let swiped = null;
  let busy = false;

  function source() {
    const checked = form.querySelector("input[name=source]:checked");
    if (checked) return checked.value;
    const hidden = form.querySelector("input[type=hidden][name=source]");
    return hidden ? hidden.value : "";
  }

  function showPanels() {
    const chosen = source();
    newPanel.hidden = chosen !== "new";
    if (swipePanel) swipePanel.hidden = chosen !== "swipe";
    if (saveOptions) saveOptions.hidden = !(chosen === "new" || chosen === "swipe");
    if (chosen === "swipe" && swipeInput) swipeInput.focus();
  }

  function fail(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    progress.textContent = "";
    button.disabled = false;
    busy = false;
  }

  function readSwipe() {
    const card = parseSwipe(swipeInput.value);
    swipeInput.value = ""; // the track data stays in this page's memory only
    if (!card || !luhn(card.number)) {
      swiped = null;
      swipeRead.innerHTML = "";
      swipeRead.append(
        Object.assign(document.createElement("span"), {
          className: "text-danger",
          textContent: "The swipe could not be read. Swipe the card again.",
        }),
      );
      return;
    }
    swiped = card;
    pmField.value = "";
    swipeRead.textContent =
      "Read: card ending " + card.number.slice(-4) + ", expires " + card.exp_month + "/" +
      card.exp_year.slice(-2) + (card.name ? ", " + card.name : "") + ".";
    errorBox.hidden = true;
    swipeCvc.focus();
  }

  form.querySelectorAll("input[name=source]").forEach((radio) =>
    radio.addEventListener("change", showPanels),
  );
  showPanels();

  if (swipeInput) {
    let timer = null;
    swipeInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault(); // a swiper ends with Enter: read it, do not submit
        clearTimeout(timer);
        readSwipe();
      }
    });
    swipeInput.addEventListener("input", () => {
      clearTimeout(timer);
      if (/\?\s*$/.test(swipeInput.value)) timer = setTimeout(readSwipe, 300);
    });
  }

  form.addEventListener("submit", async (event) => {
    const chosen = source();
    if (busy) {
      event.preventDefault(); // a second click while the first is under way
      return;
    }
    if ((chosen !== "new" && chosen !== "swipe") || pmField.value) {
      busy = true;
      button.disabled = true;
      progress.textContent = "Charging the card…";
      return; // a card on file, or one the gateway already returned: post the form
    }
    event.preventDefault();
    busy = true;
    button.disabled = true;
    errorBox.hidden = true;
    let paymentMethod;
    if (chosen === "swipe") {
      if (!swiped) return fail("Swipe the card first.");
      const cvc = swipeCvc.value.trim();
      if (!/^\d{3,4}$/.test(cvc)) {
        return fail("Type the 3-digit security code from the back of the card.");
      }
      paymentMethod = {
        card: {
          number: swiped.number,
          exp_month: swiped.exp_month,
          exp_year: swiped.exp_year,
          cvc: cvc,
        },
        billing_details: swiped.name ? { name: swiped.name } : {},
      };
    } else {
      paymentMethod = { card: cardElement };
    }
    progress.textContent = "Sending the card to the card processor…";
    let secret;
    try {
      const response = await fetch(form.dataset.setupUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "X-CSRFToken": form.querySelector("input[name=csrfmiddlewaretoken]").value,
          Accept: "application/json",
        },
      });
      const data = await response.json();
      if (!response.ok || data.error) return fail(data.error || "The card could not be checked.");
      secret = data.client_secret;
    } catch (err) {
      return fail("Classbook could not be reached. Check the connection and try again.");
    }
    const result = await stripe.confirmCardSetup(secret, { payment_method: paymentMethod });
    if (result.error) {
      return fail(
        "The card processor refused the card: " +
          (result.error.message || "no reason given").replace(/\.$/, "") + ".",
      );
    }
    pmField.value = result.setupIntent.payment_method;
    swiped = null;
    if (swipeCvc) swipeCvc.value = "";
    progress.textContent = form.dataset.mode === "save" ? "Saving the card…" : "Charging the card…";
    HTMLFormElement.prototype.submit.call(form);
  });
})();
