// Placeholder: the front end's built bundle replaces this file.
document.getElementById("app")?.setAttribute("data-ready", "true");
