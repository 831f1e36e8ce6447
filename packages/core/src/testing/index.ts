export { describeObjectStore } from "./store-suite.js";
export type { StoreSuiteSubject } from "./store-suite.js";
export { describeAdapterContract } from "./adapter-suite.js";
export type { ContractAdapter, ContractInvocation, ContractMessages } from "./adapter-suite.js";
export { mutatedEvents } from "./fuzz.js";
export { describeMessageSender } from "./message-suite.js";
export type { MessageSuiteOptions, MessageSuiteSubject, ReceivedMessage } from "./message-suite.js";
