// DOM building without HTML strings: text always goes in as text nodes and attributes through setAttribute, so a job
// or client id (user input) is never parsed as markup. Nothing on the page uses innerHTML.

const SVG = "http://www.w3.org/2000/svg";

function build(element, attrs, children) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An HTML element: h("td", { class: "num" }, "12.5"). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, for the plots. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

/** A class name from a state or phase name; anything else (it comes from the server) is dropped. */
export function token(name) {
  return /^[A-Za-z][A-Za-z0-9-]*$/.test(name ?? "") ? name : "";
}
