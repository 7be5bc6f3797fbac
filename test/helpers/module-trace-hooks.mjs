// Module customization hooks (node:module register) that report every module URL Node loads
// through the ESM loader to the thread that registered them (test/helpers/module-trace.mjs).
let port

export function initialize(data) {
  port = data.port
}

export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context)
  port.postMessage(url)
  return loaded
}
