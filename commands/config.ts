import {describeSettings} from '../src/config/load-config.js'
import {BaseCommand} from './lib/base-command.js'
import {renderTable} from './lib/render-table.js'

export default class ConfigShow extends BaseCommand<typeof ConfigShow> {
  static override summary = 'Show each effective setting and where it came from (secrets redacted)'
  static override description = 'Precedence: flags > environment (SAASCTL_*) > config file (saas-ctl.config.json or --config) > defaults.'

  async run() {
    const loaded = this.loadConfiguration()
    const settings = describeSettings(loaded.settings).map(({key, value, source}) => ({key, value, source}))
    this.log(`config file: ${loaded.configFile ?? '(none)'}`)
    this.log(renderTable(settings, [
      {header: 'setting', value: (setting) => setting.key},
      {header: 'value', value: (setting) => setting.value},
      {header: 'source', value: (setting) => setting.source},
    ]))
    return {configFile: loaded.configFile, settings}
  }
}
