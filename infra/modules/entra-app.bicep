// The chat's Microsoft Entra app registration, created with the Microsoft Graph Bicep extension (declared in
// infra/bicepconfig.json). It is both the App Service Authentication (Easy Auth) client and the audience of
// the tokens SignalR sends upstream. It has NO client secret: a federated identity credential trusts the
// Function App's user-assigned managed identity, which Easy Auth uses as its client assertion
// (clientSecretSettingName 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID', see function-app-settings.bicep and docs/deploy.md).
// main.bicep deploys this module only when ENTRA_CLIENT_ID is empty: once the registration exists, its client id
// is an azd output (ENTRA_CLIENT_ID), and every later provision, the pipeline's included, writes nothing to Graph.
// It comes after the Function App's site, whose real host is the redirect URI, and before the realtime service and the
// app's settings, which need its client id (docs/deploy.md, "Secure unique default hostnames").
extension microsoftGraphV1

@description('Tenant-unique key of the registration (Graph `uniqueName`); re-deploying with the same key updates it.')
param uniqueName string

@description('Display name shown in Entra ID and on the consent page.')
param displayName string

@description('The Function App\'s real host (its defaultHostName output): its Easy Auth callback is https://<host>/.auth/login/aad/callback. Never derived from the app\'s name: secure unique default hostnames add a hash and the region to it.')
param functionAppHostName string

@description('Principal (object) id of the Function App\'s user-assigned managed identity: the subject the credential trusts.')
param appIdentityPrincipalId string

@description('Principal (object) id of SignalR\'s managed identity: with assignment required it gets the Upstream.Invoke role, without which Entra refuses its upstream tokens.')
param signalRIdentityPrincipalId string

@description('Object id of the deploying user or pipeline principal: made owner of the registration and its service principal, so it (and a pipeline with only Application.ReadWrite.OwnedBy) can update what it created. Empty: no owner added.')
param ownerPrincipalId string = ''

@description('true: grant tenant-wide consent to the delegated sign-in permissions (needs an admin: Privileged Role Administrator, Cloud Application Administrator or Application Administrator). false: users consent, or an admin grants it (docs/deploy.md).')
param grantAdminConsent bool = false

@description('true: only users (or members of signInGroupId) assigned the Chat.User role may sign in.')
param assignmentRequired bool = false

@description('Object id of a security group whose members may sign in when assignment is required. Empty: assign users in the portal.')
param signInGroupId string = ''

// The token exchange audience of the public cloud (the Graph extension deploys only there).
var federationAudience = 'api://AzureADTokenExchange'
var federationIssuer = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'

// Microsoft Graph's application id and the delegated permissions sign-in uses (the same ids in every tenant):
// openid, profile and email are what Easy Auth asks for; none of them reads anything beyond the user's own name.
var microsoftGraphAppId = '00000003-0000-0000-c000-000000000000'
var signInScopes = [
  {
    id: '37f7f235-527c-4136-accd-4a02d197296e' // openid
    type: 'Scope'
  }
  {
    id: '14dad69e-099b-42c9-810b-d002981feec1' // profile
    type: 'Scope'
  }
  {
    id: '64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0' // email
    type: 'Scope'
  }
]

var chatUserRoleId = guid(uniqueName, 'Chat.User')
var upstreamRoleId = guid(uniqueName, 'Upstream.Invoke')
// Moderation (docs/architecture.md, "Moderation"): stable ids, derived as the others are, so a re-deploy keeps
// every assignment. Easy Auth lists the signed-in user's app roles as `roles` claims; negotiate reads them.
var chatModeratorRoleId = guid(uniqueName, 'Chat.Moderator')
var chatAdminRoleId = guid(uniqueName, 'Chat.Admin')

var owners = empty(ownerPrincipalId)
  ? []
  : [
      ownerPrincipalId
    ]

resource registration 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  owners: {
    relationships: owners
  }
  web: {
    redirectUris: [
      'https://${functionAppHostName}/.auth/login/aad/callback'
    ]
    implicitGrantSettings: {
      enableIdTokenIssuance: true
    }
  }
  api: {
    // v2 access tokens: issuer https://login.microsoftonline.com/<tenant>/v2.0, the issuer Easy Auth validates
    // (openIdIssuer in function-app-settings.bicep) and the app checks upstream (SIGNALR_UPSTREAM_ISSUER).
    // test/infra/contract.test.ts fails if the three disagree.
    requestedAccessTokenVersion: 2
  }
  requiredResourceAccess: [
    {
      resourceAppId: microsoftGraphAppId
      resourceAccess: signInScopes
    }
  ]
  appRoles: [
    {
      id: chatUserRoleId
      value: 'Chat.User'
      displayName: 'Chat user'
      description: 'May sign in to the chat.'
      allowedMemberTypes: [
        'User'
      ]
      isEnabled: true
    }
    {
      id: chatModeratorRoleId
      value: 'Chat.Moderator'
      displayName: 'Chat moderator'
      description: 'May delete anyone\'s message, mute, ban and remove people from channels, and read reports and the audit log.'
      allowedMemberTypes: [
        'User'
      ]
      isEnabled: true
    }
    {
      id: chatAdminRoleId
      value: 'Chat.Admin'
      displayName: 'Chat admin'
      description: 'Everything a moderator may do.'
      allowedMemberTypes: [
        'User'
      ]
      isEnabled: true
    }
    {
      id: upstreamRoleId
      value: 'Upstream.Invoke'
      displayName: 'Upstream caller'
      description: 'The SignalR Service that forwards client events to the app.'
      allowedMemberTypes: [
        'Application'
      ]
      isEnabled: true
    }
  ]

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
  appRoleAssignmentRequired: assignmentRequired
  owners: {
    relationships: owners
  }
}

resource microsoftGraph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: microsoftGraphAppId
}

// Admin consent for every user, so nobody meets "Need admin approval" where user consent is off.
resource adminConsent 'Microsoft.Graph/oauth2PermissionGrants@v1.0' = if (grantAdminConsent) {
  clientId: servicePrincipal.id
  consentType: 'AllPrincipals'
  resourceId: microsoftGraph.id
  scope: 'openid profile email'
}

// With assignment required, Entra issues tokens for this application only to assigned principals, SignalR's
// identity included: without this assignment every upstream call would carry no token and the chat would be dead.
resource upstreamAssignment 'Microsoft.Graph/appRoleAssignedTo@v1.0' = if (assignmentRequired) {
  appRoleId: upstreamRoleId
  principalId: signalRIdentityPrincipalId
  resourceId: servicePrincipal.id
}

resource groupAssignment 'Microsoft.Graph/appRoleAssignedTo@v1.0' = if (assignmentRequired && !empty(signInGroupId)) {
  appRoleId: chatUserRoleId
  principalId: signInGroupId
  resourceId: servicePrincipal.id
}

output clientId string = registration.appId
output servicePrincipalId string = servicePrincipal.id
