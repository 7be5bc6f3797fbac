import {Flags} from '@oclif/core'
import {BaseCommand} from '../lib/base-command.js'
import {readStandardInput} from '../lib/confirm.js'
import {renderUser} from './render.js'

export default class UserCreate extends BaseCommand<typeof UserCreate> {
  static override summary = 'Create a user'
  static override description = 'The password is read only from standard input (--password-stdin), never from the command line, and stored only as an argon2id hash. Without one the user cannot log in with a password.'
  static override examples = [
    '<%= config.bin %> user create --email ada@example.com --name "Ada Lovelace"',
    'printf %s "$PASSWORD" | <%= config.bin %> user create --email ada@example.com --password-stdin',
  ]
  static override flags = {
    email: Flags.string({description: 'Email address (stored lowercased; unique)', required: true}),
    name: Flags.string({description: 'Display name'}),
    'password-stdin': Flags.boolean({description: 'Read the password from standard input'}),
    'platform-admin': Flags.boolean({description: 'Make the user a platform administrator'}),
    'if-not-exists': Flags.boolean({description: 'Succeed and print the existing user when the email (and name, if given) match'}),
  }

  async run() {
    const password = this.flags['password-stdin'] ? await readStandardInput() : undefined
    const core = await this.openCore()
    const {user, created} = await core.users.createUser(this.actor(), {
      email: this.flags.email,
      name: this.flags.name,
      password,
      isPlatformAdmin: this.flags['platform-admin'],
      ifNotExists: this.flags['if-not-exists'],
    })
    this.log(created ? `Created user ${user.email} (${user.id})` : `User ${user.email} already exists (${user.id})`)
    this.log(renderUser(user))
    return {...user, created}
  }
}
