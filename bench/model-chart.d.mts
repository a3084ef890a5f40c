// Types for bench/model-chart.mjs, so test/contract/model-chart.test.ts can import it typed.
export interface ModelInputs {
  connectionsPerInstance: number
  connections: number
  redis: {
    appendMicros: number
    deliveryMicrosPerInstance: number
    forwardMicrosPerOtherPrimary: number
    appendInBytes: number
    appendReplyBytes: number
    deliveryBytesPerInstance: number
    busBytesPerOtherPrimary: number
  }
  chart: { shards: number[], maxInstances: number }
  measured: Array<{ shards: number, instances: number, runs: number, writes: string, cpuMicrosPerPrimary?: [number, number] }>
}
export interface ModelPoint {
  cpuMicrosPerPrimary: number
  maxChangesPerSecond: number
  maxChangesPerSecondOneResource: number
  outMBPerSecondPerPrimary: number
  inMBPerSecondPerPrimary: number
}
export const INPUTS_PATH: string
export const CHART_PATH: string
export function readInputs (): ModelInputs
export function modelAt (inputs: ModelInputs, shards: number, instances: number): ModelPoint
export function forwardingCap (inputs: ModelInputs): number
export function modelRows (inputs: ModelInputs): string[]
export function modelChartSvg (inputs: ModelInputs): string
