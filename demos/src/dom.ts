// Small DOM helpers: typed look-ups that fail loudly, element construction, and the page's problem box.

export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`the page has no <${type.name}> #${id}`);
  return e;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Pick<HTMLElement, 'className' | 'textContent' | 'title' | 'id'>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

export function fillSelect(select: HTMLSelectElement, options: readonly (readonly [value: string, label: string])[], selected: string): void {
  select.replaceChildren(...options.map(([value, label]) => new Option(label, value, false, value === selected)));
}

/** Shows a problem in the page's alert box (and in the console when it is a failure of the page). */
export function showProblem(title: string, error: unknown, log = true): void {
  const box = byId('problem', HTMLDivElement);
  const message = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
  box.replaceChildren(el('strong', { textContent: title }), el('pre', { textContent: message }));
  box.hidden = false;
  if (log) console.error(title, error);
}

export function clearProblem(): void {
  byId('problem', HTMLDivElement).hidden = true;
}
