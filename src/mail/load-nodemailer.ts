type Nodemailer = (typeof import('nodemailer'))['default']

/** nodemailer, loaded on the first mail sent: commands that send none do not load it at start. */
let nodemailer: Promise<Nodemailer> | undefined

export function loadNodemailer(): Promise<Nodemailer> {
  nodemailer ??= import('nodemailer').then((module) => module.default)
  return nodemailer
}
