// The chat's Microsoft Entra app registration, created with the Microsoft Graph Bicep extension (declared in
// infra/bicepconfig.json). It is both the App Service Authentication (Easy Auth) client and the audience of
// the tokens SignalR sends upstream. It has NO client secret: a federated identity credential trusts the
// Function App's user-assigned managed identity, which Easy Auth uses as its client assertion
// (clientSecretSettingName 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID', see function-app.bicep and docs/deploy.md).
extension microsoftGraphV1

@description('Tenant-unique key of the registration (Graph `uniqueName`); re-deploying with the same key updates it.')
param uniqueName string

@description('Display name shown in Entra ID and on the consent page.')
param displayName string

@description('Name of the Function App: its Easy Auth callback is https://<name>.azurewebsites.net/.auth/login/aad/callback.')
param functionAppName string

@description('Principal (object) id of the Function App\'s user-assigned managed identity: the subject the credential trusts.')
param appIdentityPrincipalId string

// The token exchange audience of the public cloud (the Graph extension deploys only there).
var federationAudience = 'api://AzureADTokenExchange'
var federationIssuer = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'

resource registration 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  web: {
    redirectUris: [
      'https://${functionAppName}.azurewebsites.net/.auth/login/aad/callback'
    ]
    implicitGrantSettings: {
      enableIdTokenIssuance: true
    }
  }
  api: {
    // v1 access tokens (iss https://sts.windows.net/<tenant>/): the only kind SignalR's upstream auth supports.
    requestedAccessTokenVersion: 1
  }

  resource appIdentityCredential 'federatedIdentityCredentials@v1.0' = {
    name: '${registration.uniqueName}/function-app-identity'
    description: 'The Function App\'s user-assigned managed identity, used by App Service Authentication instead of a client secret.'
    audiences: [
      federationAudience
    ]
    issuer: federationIssuer
    subject: appIdentityPrincipalId
  }
}

// The service principal makes the registration usable in this tenant: users sign in to it, and SignalR's
// managed identity can get tokens whose audience is its application (client) id.
resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: registration.appId
}

output clientId string = registration.appId
output servicePrincipalId string = servicePrincipal.id
