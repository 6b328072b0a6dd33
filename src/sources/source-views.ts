/**
 * A discourse record as other modules see it (narratives reads records through `SourcesService`, never the entity).
 * `providerId` is the item's id on its platform or feed.
 */
export interface DiscourseRecordView {
  id: string;
  sourceId: string;
  platform: string;
  providerId: string;
  url: string;
  canonicalUrl: string;
  author: string;
  title: string;
  text: string;
  publishedAt: Date;
  /** Score, comments, likes, reposts… as the platform counts them ({} when it gives none). */
  engagement: Record<string, number>;
}
