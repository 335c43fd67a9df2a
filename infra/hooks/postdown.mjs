// azd postdown hook: `azd down` deletes Azure resources, never Microsoft Entra objects. Say what is left.
const clientId = process.env.ENTRA_CLIENT_ID ?? '';
if (clientId === '') process.exit(0);
console.log(`The app registration ${clientId} and its service principal remain in Microsoft Entra ID.`);
console.log('  Keep it: the next `azd up` of this environment updates it when you first run');
console.log(
  '    azd env set ENTRA_CLIENT_ID ""   (its federated credential must trust the new managed identity)',
);
console.log(`  Remove it: az ad app delete --id ${clientId}`);
console.log(
  '    (deleted registrations keep their uniqueName for 30 days unless purged from Deleted applications).',
);
