// The Stripe.js stand-in (stripe_standin/stripe_js.py serves it, with __API_BASE__ filled in):
// Stripe(pk) with elements().create("card") drawing plain labelled inputs, createPaymentMethod
// sending the card to the stand-in (pk_ key, as Stripe.js does), and confirmCardPayment asking
// the buyer, in a small dialog of the page, as their bank's 3-D Secure page would. No inline
// styles (the app's Content-Security-Policy forbids them): the page's stylesheet styles it.
(function () {
  "use strict";
  var API = "__API_BASE__";

  function form(data, prefix, out) {
    out = out || [];
    Object.keys(data).forEach(function (key) {
      var name = prefix ? prefix + "[" + key + "]" : key;
      var value = data[key];
      if (value !== null && typeof value === "object") form(value, name, out);
      else out.push(encodeURIComponent(name) + "=" + encodeURIComponent(String(value)));
    });
    return out.join("&");
  }

  function call(key, method, path, data) {
    var init = { method: method, headers: { authorization: "Bearer " + key } };
    if (data) {
      init.headers["content-type"] = "application/x-www-form-urlencoded";
      init.body = form(data);
    }
    return fetch(API + path, init).then(function (reply) {
      return reply.json().then(function (body) {
        return reply.ok ? { value: body } : { error: body.error || { message: "Stripe error" } };
      });
    });
  }

  var FIELDS = [
    ["number", "Card number", "cc-number", 19],
    ["exp_month", "Expiry month (MM)", "cc-exp-month", 2],
    ["exp_year", "Expiry year (YY)", "cc-exp-year", 4],
    ["cvc", "Security code (CVC)", "cc-csc", 4],
    ["postal_code", "Postal code", "postal-code", 10],
  ];

  function CardElement(options) {
    this.options = options || {};
    this.inputs = {};
    this.handlers = [];
    this.root = null;
  }
  CardElement.prototype.mount = function (target) {
    var self = this;
    var node = typeof target === "string" ? document.querySelector(target) : target;
    var root = document.createElement("div");
    root.className = "standin-card";
    FIELDS.forEach(function (field) {
      if (field[0] === "postal_code" && self.options.hidePostalCode) return;
      var label = document.createElement("label");
      label.className = "standin-card-field standin-card-" + field[0];
      var text = document.createElement("span");
      text.textContent = field[1];
      var input = document.createElement("input");
      input.name = field[0];
      input.autocomplete = field[2];
      input.maxLength = field[3];
      input.inputMode = field[0] === "postal_code" ? "text" : "numeric";
      input.addEventListener("input", function () {
        self._changed();
      });
      label.appendChild(text);
      label.appendChild(input);
      root.appendChild(label);
      self.inputs[field[0]] = input;
    });
    node.appendChild(root);
    this.root = root;
  };
  CardElement.prototype.destroy = function () {
    if (this.root && this.root.parentNode) this.root.parentNode.removeChild(this.root);
    this.root = null;
    this.inputs = {};
  };
  CardElement.prototype.on = function (event, handler) {
    if (event === "change") this.handlers.push(handler);
  };
  CardElement.prototype.value = function (name) {
    var input = this.inputs[name];
    return input ? input.value.replace(/\s+/g, "") : "";
  };
  CardElement.prototype._changed = function () {
    var self = this;
    var complete = FIELDS.every(function (field) {
      return !self.inputs[field[0]] || self.value(field[0]) !== "";
    });
    this.handlers.forEach(function (handler) {
      handler({ elementType: "card", complete: complete, empty: false, error: undefined });
    });
  };

  function bankDialog(amount, currency) {
    return new Promise(function (resolve) {
      var dialog = document.createElement("div");
      dialog.className = "standin-3ds";
      dialog.setAttribute("role", "dialog");
      dialog.setAttribute("aria-modal", "true");
      dialog.setAttribute("aria-label", "3-D Secure");
      var text = document.createElement("p");
      text.textContent =
        "Your bank asks you to confirm a payment of " +
        (amount / 100).toFixed(2) + " " + String(currency).toUpperCase() + " (Stripe stand-in).";
      dialog.appendChild(text);
      [["Complete authentication", true], ["Fail authentication", false]].forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b[0];
        button.addEventListener("click", function () {
          dialog.parentNode.removeChild(dialog);
          resolve(b[1]);
        });
        dialog.appendChild(button);
      });
      document.body.appendChild(dialog);
      dialog.querySelector("button").focus();
    });
  }

  function outcome(intent) {
    if (intent.status === "requires_payment_method" && intent.last_payment_error) {
      return { error: intent.last_payment_error };
    }
    return { paymentIntent: intent };
  }

  window.Stripe = function (publishableKey) {
    if (!/^pk_/.test(String(publishableKey))) {
      throw new Error("Stripe stand-in: a publishable key (pk_...) is needed");
    }
    return {
      elements: function () {
        return {
          create: function (type, options) {
            if (type !== "card") throw new Error("Stripe stand-in: only the card element");
            return new CardElement(options);
          },
        };
      },
      createPaymentMethod: function (data) {
        var card = data.card;
        var year = card.value("exp_year");
        return call(publishableKey, "POST", "/v1/payment_methods", {
          type: "card",
          card: {
            number: card.value("number"),
            exp_month: card.value("exp_month"),
            exp_year: year.length === 2 ? "20" + year : year,
            cvc: card.value("cvc"),
          },
        }).then(function (answer) {
          return answer.error ? { error: answer.error } : { paymentMethod: answer.value };
        });
      },
      confirmCardPayment: function (clientSecret) {
        var id = String(clientSecret).split("_secret_")[0];
        var read = "/v1/payment_intents/" + id + "?client_secret=" + encodeURIComponent(clientSecret);
        return call(publishableKey, "GET", read).then(function (answer) {
          if (answer.error) return { error: answer.error };
          var intent = answer.value;
          if (intent.status !== "requires_action") return outcome(intent);
          return bankDialog(intent.amount, intent.currency).then(function (success) {
            return call(publishableKey, "POST", "/_standin/payment_intents/" + id + "/authenticate", {
              client_secret: clientSecret,
              success: success,
            }).then(function (done) {
              return done.error ? { error: done.error } : outcome(done.value);
            });
          });
        });
      },
    };
  };
})();
