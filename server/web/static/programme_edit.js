// Therapist: make or edit a programme — exercises picked from the catalog, with sets, reps, hold and rest.
import { api, el, listOf, pretty, runPage, setStatus, textOf } from "./api.js";

const id = document.body.dataset.programmeId;
const tbody = document.querySelector("#items-table tbody");
const msg = document.getElementById("programme-msg");
let catalog = new Map();

function numberInput(name, value, label, { min = 0, step = 1 } = {}) {
  return el("input", { type: "number", name, min, step, value: value ?? "", "aria-label": label, inputmode: "decimal" });
}

function itemRow(item) {
  const spec = catalog.get(item.exercise) || {};
  const name = spec.name || pretty(item.exercise);
  const tr = el("tr", { dataset: { exercise: item.exercise } });
  const move = (dir) => {
    const sib = dir < 0 ? tr.previousElementSibling : tr.nextElementSibling;
    if (sib) dir < 0 ? sib.before(tr) : sib.after(tr);
  };
  const isHold = spec.kind === "hold";
  tr.append(
    el("td", {}, el("strong", {}, name), item.warmup ? el("span", { class: "badge" }, "warm-up") : "",
      el("div", { class: "small muted" }, spec.kind ? `${spec.kind}, ${spec.position || ""}` : item.exercise)),
    el("td", {}, numberInput("sets", item.sets ?? 1, `${name}: sets`, { min: 1 })),
    el("td", {}, numberInput("reps", item.reps ?? (isHold ? "" : spec.targets?.reps), `${name}: repetitions`)),
    el("td", {}, numberInput("hold_s", item.hold_s ?? (isHold ? spec.targets?.hold_s : ""), `${name}: hold seconds`, { step: 0.5 })),
    el("td", {}, numberInput("rest_s", item.rest_s ?? spec.targets?.rest_s ?? 30, `${name}: rest seconds`)),
    el("td", {}, el("div", { class: "row" },
      el("button", { type: "button", class: "btn btn-small", "aria-label": `Move ${name} up`, onclick: () => move(-1) }, "↑"),
      el("button", { type: "button", class: "btn btn-small", "aria-label": `Move ${name} down`, onclick: () => move(1) }, "↓"),
      el("button", { type: "button", class: "btn btn-small btn-danger", "aria-label": `Remove ${name}`, onclick: () => tr.remove() }, "Remove"))),
  );
  tr.dataset.warmup = item.warmup ? "1" : "";
  return tr;
}

function readItems() {
  return [...tbody.rows].map((tr) => {
    const num = (n) => {
      const v = tr.querySelector(`[name="${n}"]`).value;
      return v === "" ? null : Number(v);
    };
    return { exercise: tr.dataset.exercise, sets: num("sets") || 1, reps: num("reps"), hold_s: num("hold_s"),
      rest_s: num("rest_s") ?? 30, warmup: tr.dataset.warmup === "1" };
  });
}

runPage(async () => {
  const specs = listOf(await api("/api/exercises"), "exercises");
  catalog = new Map(specs.map((sp) => [sp.id, sp]));
  const picker = document.getElementById("add-exercise");
  picker.replaceChildren(...specs.map((sp) => el("option", { value: sp.id }, `${sp.name || pretty(sp.id)} (${pretty(sp.level || "")})`)));
  const help = document.getElementById("exercise-help");
  const showHelp = () => {
    const sp = catalog.get(picker.value);
    help.textContent = sp ? [textOf(sp.instructions), textOf(sp.camera)].filter(Boolean).join(" Camera: ") : "";
  };
  picker.addEventListener("change", showHelp);
  showHelp();
  document.getElementById("add-item").addEventListener("click", () => {
    tbody.append(itemRow({ exercise: picker.value }));
    tbody.lastElementChild.querySelector("input").focus();
  });

  const form = document.getElementById("programme-form");
  let builtIn = false;
  if (id) {
    const p = await api(`/api/programmes/${id}`);
    builtIn = !p.owner_id;
    form.name.value = p.title || p.name || "";
    form.level.value = p.level || "custom";
    document.getElementById("editor-title").textContent = builtIn ? `${p.title || p.name} (built in)` : `Edit ${p.name}`;
    for (const item of p.items || []) tbody.append(itemRow(item));
    const del = document.getElementById("delete-programme");
    del.hidden = builtIn;
    del.addEventListener("click", async () => {
      if (!confirm("Delete this programme?")) return;
      try {
        await api(`/api/programmes/${id}`, { method: "DELETE" });
        location.assign("/programmes");
      } catch (err) {
        setStatus(msg, err.message, true);
      }
    });
    if (builtIn) form.querySelector("button[type=submit]").textContent = "Save as a new programme";
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const items = readItems();
    if (!items.length) return setStatus(msg, "Add at least one exercise.", true);
    const body = { name: form.name.value.trim(), level: form.level.value, items };
    try {
      const saved = id && !builtIn
        ? await api(`/api/programmes/${id}`, { method: "PUT", body })
        : await api("/api/programmes", { method: "POST", body });
      setStatus(msg, "Saved.");
      if (!id || builtIn) location.assign(`/programmes/${saved.id}`);
    } catch (err) {
      setStatus(msg, err.message, true);
    }
  });
  form.querySelector("button[type=submit]").disabled = false;
});
