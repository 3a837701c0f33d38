// Alert rules for ops, as log-search alerts over Application Insights (customMetrics holds the app's
// OpenTelemetry metrics, traces its structured log records with flat custom dimensions). Each rule answers one
// question from the README's operations section: is anything poisoned, stuck, about to expire, not polling,
// throttled or refused. Metric and event names are the app's (README "Telemetry").

param namePrefix string
param location string
param tags object
param appInsightsId string
@description('PENDING_WARNING_MINUTES: a Pending job older than this alerts.')
param pendingWarningMinutes int
@description('Minutes between poll ticks; three of them without a successful tick alert.')
param pollIntervalMinutes int
@description('More HTTP 429 answers from Speech than this within 15 minutes is a spike.')
param throttledThreshold int = 20
param alertEmail string = ''
param actionGroupName string

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'harvester'
    enabled: true
    emailReceivers: [
      { name: 'ops', emailAddress: alertEmail, useCommonAlertSchema: true }
    ]
  }
}

// Every query returns rows with a timestamp and the measured column; the rule aggregates that column over its
// window and compares it with the threshold.
var rules = [
  {
    key: 'poison-not-empty'
    displayName: 'Harvester: poison queue not empty'
    description: 'Harvest requests gave up; read <HARVEST_QUEUE>-poison for the reasons, then `python -m shared.cli poison replay`.'
    severity: 1
    window: 'PT15M'
    query: '''
customMetrics
| where name == "harvester.poison.length"
| project timestamp, length = value
'''
    measure: 'length'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    key: 'pending-too-long'
    displayName: 'Harvester: a job Pending longer than PENDING_WARNING_MINUTES'
    description: 'The oldest Pending job (NotStarted or Running in the service) was created longer ago than PENDING_WARNING_MINUTES; job_warning log records name it.'
    severity: 2
    window: 'PT15M'
    query: '''
customMetrics
| where name == "harvester.oldest_open.age" and tostring(customDimensions.state) == "Pending"
| project timestamp, ageMinutes = value / 60.0
'''
    measure: 'ageMinutes'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: pendingWarningMinutes
  }
  {
    key: 'ttl-at-risk'
    displayName: 'Harvester: a Succeeded job close to its time to live'
    description: 'Jobs finished but not harvested within TTL_WARNING_HOURS of the service deleting them.'
    severity: 1
    window: 'PT15M'
    query: '''
customMetrics
| where name == "harvester.ttl_at_risk"
| project timestamp, jobs = value
'''
    measure: 'jobs'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    key: 'poll-silent'
    displayName: 'Harvester: no successful poll tick for three intervals'
    description: 'The timer has not completed a tick (poll_tick log record) for three poll intervals.'
    severity: 1
    window: 'PT1H'
    query: '''
traces
| where tostring(customDimensions.event) == "poll_tick"
| summarize last = max(timestamp)
| project timestamp = now(), silentMinutes = iff(isnull(last), 60.0, (now() - last) / 1m)
'''
    measure: 'silentMinutes'
    aggregation: 'Maximum'
    operator: 'GreaterThan'
    threshold: 3 * pollIntervalMinutes
  }
  {
    key: 'speech-throttled'
    displayName: 'Harvester: Speech throttling spike (429)'
    description: 'Many Speech calls answered 429: lower the poll frequency or CONVERSATION_POLLS_PER_TICK, or ask for a higher quota.'
    severity: 2
    window: 'PT15M'
    query: '''
customMetrics
| where name == "speech.requests"
| where tostring(customDimensions.status_code) == "429"
| project timestamp, requests = valueSum
'''
    measure: 'requests'
    aggregation: 'Total'
    operator: 'GreaterThan'
    threshold: throttledThreshold
  }
  {
    key: 'speech-unauthorized'
    displayName: 'Harvester: Speech refuses the app (401)'
    description: 'Speech answered 401: the identity lost its role, or the resource has no custom subdomain.'
    severity: 1
    window: 'PT15M'
    query: '''
customMetrics
| where name == "speech.requests"
| where tostring(customDimensions.status_code) == "401"
| project timestamp, requests = valueSum
'''
    measure: 'requests'
    aggregation: 'Total'
    operator: 'GreaterThan'
    threshold: 0
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = [for rule in rules: {
  name: '${namePrefix}-${rule.key}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: rule.displayName
    description: rule.description
    severity: rule.severity
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: rule.window
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: rule.query
          metricMeasureColumn: rule.measure
          timeAggregation: rule.aggregation
          operator: rule.operator
          threshold: rule.threshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: empty(alertEmail) ? [] : [actionGroup.id]
    }
  }
}]

output ruleNames array = [for (rule, i) in rules: alertRules[i].name]
