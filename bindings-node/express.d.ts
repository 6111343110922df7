import type { IncomingMessage, ServerResponse } from 'node:http'
import type { WebApi, WebApiOptions } from './lms'

/** The screens as Express (or Node http) middleware, mounted below a path of the host's app. */
declare function bulkUpload(options: WebApiOptions | WebApi): ((req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => Promise<void>) & { api: WebApi }
export = bulkUpload
