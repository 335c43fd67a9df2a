// The one-pass admin path (docs/deploy.md, "Locked-down tenant"): an admin created the registration with a Graph
// `uniqueName` and made the deployer its owner; the deployer's `azd up` adds only the federated credential that
// trusts the Function App's managed identity, whose principal id nobody knows before the first provision. An owner
// may write its own application's credentials, so this needs no directory role.
extension microsoftGraphV1

@description('The Graph `uniqueName` the admin gave the registration (ENTRA_APP_UNIQUE_NAME).')
param uniqueName string

@description('Principal (object) id of the Function App\'s user-assigned managed identity.')
param appIdentityPrincipalId string

resource registration 'Microsoft.Graph/applications@v1.0' existing = {
  uniqueName: uniqueName

  resource appIdentityCredential 'federatedIdentityCredentials@v1.0' = {
    name: '${registration.uniqueName}/function-app-identity'
    description: 'The Function App\'s user-assigned managed identity, used by App Service Authentication instead of a client secret.'
    audiences: [
      'api://AzureADTokenExchange'
    ]
    issuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
    subject: appIdentityPrincipalId
  }
}
