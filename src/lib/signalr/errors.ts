/**
 * The one catalogue of SignalR errors: every `code` a {@link TokenError}, {@link SignalRRestError},
 * {@link ConnectionStringError} or {@link HubProtocolError} carries, listed once, with what to fix and, where a
 * rejection has one, its HTTP status. Codes are lowercase kebab-case and stable; an error's own `message` adds
 * the particulars (never a secret).
 * See docs/architecture.md, "Errors".
 */

/** One entry of the catalogue. */
export interface SignalRErrorEntry {
  /** What went wrong and what to fix. */
  readonly message: string;
  /** The HTTP status of the rejection, where one applies. */
  readonly status?: number;
}

export const SIGNALR_ERRORS = {
  // Access tokens the service verifies (TokenError); the service answers 401.
  'token-missing': {
    message: 'No access token: send Authorization: Bearer <JWT> or ?access_token=',
    status: 401,
  },
  'token-malformed': { message: 'The access token is not a valid HS256 JWT with valid claims', status: 401 },
  'token-signature': {
    message:
      'The access token is not signed with an access key of this service: sign it with one of its keys',
    status: 401,
  },
  'token-audience': {
    message: "The token's audience is not the URL it is used for (without query and trailing slash)",
    status: 401,
  },
  'token-expired': { message: 'The access token has expired: get a new one', status: 401 },
  'token-no-expiry': { message: 'The access token has no exp claim: give it one', status: 401 },
  'token-not-yet-valid': {
    message: 'The access token is not valid yet (nbf): check the clocks',
    status: 401,
  },

  // REST calls to the service (SignalRRestError).
  'rest-refused': {
    message:
      'The service refused the REST call or answered it without what was asked: see its status and message',
  },
  'rest-unreachable': { message: 'The REST call reached no service: check the endpoint and the network' },
  'rest-timeout': { message: 'The service did not answer the REST call in time (option timeoutMs)' },
  'rest-no-credential': {
    message:
      'No Microsoft Entra token: check the managed identity (ClientId) and its role on the SignalR resource',
  },

  // Connection strings and settings (ConnectionStringError).
  'connection-string-malformed': {
    message:
      'The connection string has a part without "name=value": write Endpoint=…;AccessKey=…;Version=1.0;',
  },
  'connection-string-no-endpoint': { message: 'The connection string has no Endpoint=…: add it' },
  'connection-string-version': { message: 'The connection string has a Version other than 1.0' },
  'connection-string-auth-type': {
    message: 'The connection string has an unknown AuthType: use AuthType=azure.msi or an AccessKey',
  },
  'connection-string-no-access-key': {
    message: 'The connection string has no AccessKey=… (or AuthType=azure.msi for identity-based access)',
  },
  'connection-string-endpoint': {
    message: 'The Endpoint is not an absolute http or https URL such as https://name.service.signalr.net',
  },
  'connection-string-port': { message: 'The connection string has a Port outside 1–65535' },
  'connection-setting-missing': {
    message:
      'No SignalR service configured: set AzureSignalRConnectionString, or AzureSignalREndpoint and AzureSignalRAccessKey',
  },
  'connection-setting-invalid': {
    message:
      'SIGNALR_AUTH must be identity (with the AuthType=azure.msi connection string) or key (with an AccessKey)',
  },

  // The JSON hub protocol (HubProtocolError); the connection is closed with the message.
  incomplete: { message: 'A hub protocol record is not terminated by the record separator \\x1e' },
  'invalid-json': { message: 'A hub protocol record is not valid JSON' },
  'invalid-message': { message: 'A hub message is not a JSON object of a known shape' },
  'invalid-handshake': {
    message: 'The handshake is not {"protocol":"json","version":1} or a valid response',
  },
  'unsupported-protocol': { message: 'The handshake asks for a protocol other than json version 1' },
} as const satisfies Record<string, SignalRErrorEntry>;

export type SignalRErrorCode = keyof typeof SIGNALR_ERRORS;

/** An error that carries one of the catalogue's codes; its `message` adds the particulars (never a secret). */
export class SignalRError<Code extends SignalRErrorCode = SignalRErrorCode> extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
  }
}
