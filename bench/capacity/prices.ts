/**
 * List prices and platform limits the capacity model uses: East US, USD, pay-as-you-go, as read on the
 * dates given. Several come from third-party transcriptions because the stored copies of Microsoft's
 * pricing pages show no figures; check each against the Azure Retail Prices API
 * (https://prices.azure.com/api/retail/prices) or the pricing calculator before relying on a total.
 */

/** One price or limit with where it comes from. */
export interface Sourced {
  value: number;
  unit: string;
  source: string;
  /** The date the source was read or carries. */
  date: string;
  /** First party (Microsoft), Microsoft's sample figures, third party, or derived. */
  kind: '1P' | '1P-sample' | '3P' | 'derived';
}

export const SIGNALR = {
  standardUnitPerDay: {
    value: 49.1 / 30.4,
    unit: 'USD per Standard_S1 unit per day ($49.10 a month)',
    source: 'https://plavos.com/blog/azure-signalr-service-pricing-unit-instance-messages/',
    date: 'undated, read 2026-11-29',
    kind: '3P',
  },
  connectionsPerUnit: {
    value: 1000,
    unit: 'concurrent connections per Standard unit',
    source: 'https://azure.microsoft.com/pricing/details/signalr-service/ (as transcribed 2026-09-20)',
    date: '2026-09-20',
    kind: '3P',
  },
  includedMessagesPerUnitPerDay: {
    value: 1_000_000,
    unit: 'messages per Standard unit per day included',
    source: 'https://azure.microsoft.com/pricing/details/signalr-service/ (as transcribed 2026-09-20)',
    date: '2026-09-20',
    kind: '3P',
  },
  overagePerMillionMessages: {
    value: 1.0,
    unit: 'USD per million messages over the included ones',
    source: 'https://plavos.com/blog/azure-signalr-service-pricing-unit-instance-messages/',
    date: 'undated, read 2026-11-29',
    kind: '3P',
  },
  maxUnitsStandard: {
    value: 100,
    unit: 'units per instance (Standard)',
    source: 'https://learn.microsoft.com/azure/azure-signalr/signalr-howto-scale-signalr',
    date: 'ms.date 2022-07-18',
    kind: '1P',
  },
  billingUnitBytes: {
    value: 2048,
    unit: 'bytes per billed message ("Messages larger than 2 KB are counted as multiple messages of 2 KB each"); only outbound messages, Pings excluded',
    source: 'https://learn.microsoft.com/azure/azure-signalr/signalr-concept-messages-and-connections',
    date: 'current page, read 2026-11-29',
    kind: '1P',
  },
} satisfies Record<string, Sourced>;

export const FUNCTIONS = {
  perGbSecond: {
    value: 0.000026,
    unit: 'USD per GB-s (Flex Consumption, on demand)',
    source: 'https://learn.microsoft.com/azure/azure-functions/functions-consumption-costs',
    date: 'ms.date 2025-02-10',
    kind: '1P',
  },
  perMillionExecutions: {
    value: 0.4,
    unit: 'USD per million executions (Flex Consumption, on demand)',
    source: 'https://learn.microsoft.com/azure/azure-functions/functions-consumption-costs',
    date: 'ms.date 2025-02-10',
    kind: '1P',
  },
  instanceMemoryGb: {
    value: 2,
    unit: 'GB per instance (the default 2 048 MB size, 1 core)',
    source: 'https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan',
    date: 'ms.date 2025-05-12',
    kind: '1P',
  },
  minimumBillableSeconds: {
    value: 1,
    unit: 's: the minimum billable activity period of an instance',
    source: 'https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan',
    date: 'ms.date 2025-05-12',
    kind: '1P',
  },
  maxInstancesPerApp: {
    value: 1000,
    unit: 'instances per app at most (default 100)',
    source: 'https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan',
    date: 'ms.date 2025-05-12',
    kind: '1P',
  },
  regionalCores: {
    value: 250,
    unit: 'cores per subscription per region for all Flex apps (raised on request)',
    source: 'https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan',
    date: 'ms.date 2025-05-12',
    kind: '1P',
  },
  httpConcurrencyPerInstance: {
    value: 16,
    unit: 'concurrent HTTP executions per 2 048 MB instance (Node default)',
    source:
      'https://learn.microsoft.com/azure/azure-functions/functions-concurrency#http-trigger-concurrency',
    date: 'undated, as quoted 2026-11-29',
    kind: '3P',
  },
} satisfies Record<string, Sourced>;

/** Blob Storage GPv2, Hot, LRS: prices per 10 000 transactions by class. */
export const BLOB = {
  writePer10k: {
    value: 0.055,
    unit: 'USD per 10 000 write operations (Put Blob, Append Block, Set Metadata)',
    source:
      "https://learn.microsoft.com/azure/storage/blobs/blob-storage-estimate-costs (Microsoft's sample prices)",
    date: 'ms.date 2024-07-26',
    kind: '1P-sample',
  },
  listPer10k: {
    value: 0.055,
    unit: 'USD per 10 000 list and create-container operations',
    source:
      "https://learn.microsoft.com/azure/storage/blobs/blob-storage-estimate-costs (Microsoft's sample prices)",
    date: 'ms.date 2024-07-26',
    kind: '1P-sample',
  },
  readPer10k: {
    value: 0.0044,
    unit: 'USD per 10 000 read operations (Get Blob)',
    source:
      "https://learn.microsoft.com/azure/storage/blobs/blob-storage-estimate-costs (Microsoft's sample prices)",
    date: 'ms.date 2024-07-26',
    kind: '1P-sample',
  },
  otherPer10k: {
    value: 0.0044,
    unit: 'USD per 10 000 other operations (Get Properties, …); Delete Blob is free',
    source:
      "https://learn.microsoft.com/azure/storage/blobs/blob-storage-estimate-costs (Microsoft's sample prices)",
    date: 'ms.date 2024-07-26',
    kind: '1P-sample',
  },
  requestsPerSecondPerBlob: {
    value: 500,
    unit: 'requests per second to a single blob (the older scale table; plan on it for append blobs)',
    source: 'https://learn.microsoft.com/azure/storage/blobs/scalability-targets',
    date: 'ms.date 2023-01-11 table; 2026-07-24 copy',
    kind: '1P',
  },
  blocksPerAppendBlob: {
    value: 50_000,
    unit: 'blocks per append blob',
    source: 'https://learn.microsoft.com/azure/storage/blobs/scalability-targets',
    date: 'ms.date 2026-05-18',
    kind: '1P',
  },
  requestsPerSecondPerAccount: {
    value: 20_000,
    unit: 'requests per second per standard storage account',
    source: 'https://learn.microsoft.com/azure/storage/common/scalability-targets-standard-account',
    date: 'read 2026-11-29',
    kind: '1P',
  },
} satisfies Record<string, Sourced>;

/** The transaction class of a counted Blob operation (see bench/blob-counter.ts for the keys). */
export function blobClass(operation: string): 'write' | 'list' | 'read' | 'other' | 'free' {
  if (operation.startsWith('DELETE')) return 'free';
  if (operation.includes('list')) return 'list';
  if (operation.startsWith('PUT')) return 'write';
  if (operation === 'GET') return 'read';
  return 'other';
}
