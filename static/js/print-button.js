// Buttons marked data-print open the browser's print dialogue (no inline script under the Content-Security-Policy).
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
