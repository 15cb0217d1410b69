/** One message a command published, as its output reports it. */
export interface PublishedMessage {
  readonly topic: string;
  readonly messageId: string;
  /** The message's run_id attribute. */
  readonly runId?: string;
  /** deployment-finished's outcome, when the message has one. */
  readonly outcome?: string;
}
