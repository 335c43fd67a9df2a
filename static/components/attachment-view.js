import { readConfig } from '../config.js';
import { dropPreview, keptPreview } from '../link/upload-previews.js';
import { attachmentUrl, isInlineImage, sizeLabel } from '../link/uploads.js';
import { computed, defineComponent, ref } from '../vendor/vue.js';

/** Widest an inline image is drawn, in CSS pixels (narrower when the column is: see `.attachment-image`). */
export const MAX_IMAGE_WIDTH_PX = 360;
/** Tallest an inline image is drawn, in CSS pixels. */
export const MAX_IMAGE_HEIGHT_PX = 320;

/** The page's API settings, read once (the same block the app was started with). */
let apiConfig = /** @type {import('../config.js').ChatConfig | null} */ (null);

/**
 * One message's attachment (docs/architecture.md, "Attachments"): an image inline, at its size bounded by the
 * column and keeping its aspect ratio, with `width`/`height` set so the list does not jump when it loads; any
 * other file as a download chip with its name and size. Both point at the app's attachments route, which checks
 * that the reader may read the conversation before it redirects to a short-lived Blob URL. An image that does not
 * load (deleted by retention) says so in words instead of a broken picture. A message still on its way (`pending`)
 * asks for nothing, since the app serves a file only once its message is stored: an image shows its preview from
 * the sender's file (upload-previews.js), kept behind the stored image until that has loaded; a file (or an image
 * without a preview) shows its name and size, not yet a link.
 */
export const AttachmentView = defineComponent({
  name: 'AttachmentView',
  props: {
    attachment: {
      type: /** @type {import('vue').PropType<import('../link/uploads.js').Attachment>} */ (Object),
      required: true,
    },
    conversation: { type: String, required: true },
    /** The message is not stored yet: its file cannot be read from the app. */
    pending: { type: Boolean, default: false },
  },
  setup(props) {
    apiConfig ??= readConfig();
    const config = apiConfig;
    const url = computed(() =>
      attachmentUrl(
        { apiBase: config.apiBase, user: config.user ?? '', auth: config.auth },
        props.conversation,
        props.attachment,
      ),
    );
    const inline = computed(() => isInlineImage(props.attachment.type));
    /** The drawn size: the image's own, scaled down to fit the bounds, aspect ratio kept. */
    const box = computed(() => {
      const { width, height } = props.attachment;
      if (!width || !height) return null;
      const scale = Math.min(1, MAX_IMAGE_WIDTH_PX / width, MAX_IMAGE_HEIGHT_PX / height);
      return { width: Math.round(width * scale), height: Math.round(height * scale) };
    });
    const size = computed(() => sizeLabel(props.attachment.size));
    /** Whether the image failed to load: gone after retention, or the Blob service unreachable. */
    const failed = ref(false);
    /** The sender's preview (this page sent the image), shown until the stored image has loaded. */
    const preview = ref(keptPreview(props.attachment.blob));
    /** The drawn image's style: its aspect ratio, and the preview behind it while it loads. */
    const imageStyle = computed(() => ({
      ...(box.value ? { aspectRatio: `${box.value.width} / ${box.value.height}` } : {}),
      ...(preview.value && !props.pending
        ? { backgroundImage: `url("${preview.value}")`, backgroundSize: '100% 100%' }
        : {}),
    }));
    function loaded() {
      if (props.pending || !preview.value) return;
      dropPreview(props.attachment.blob);
      preview.value = undefined;
    }
    return { url, inline, box, size, failed, preview, imageStyle, loaded };
  },
  template: /* html */ `
    <span v-if="inline && failed" class="attachment-gone" dir="auto">{{ attachment.name }}: this image is no longer available</span>
    <span v-else-if="inline && pending && preview" class="attachment-image-link">
      <img class="attachment-image" :src="preview" :alt="attachment.name" decoding="async"
        :width="box ? box.width : null" :height="box ? box.height : null" :style="imageStyle" />
    </span>
    <a v-else-if="inline && !pending" class="attachment-image-link" :href="url" target="_blank" rel="noopener noreferrer"
      :title="attachment.name + ' (' + size + '), opens in a new tab'">
      <img class="attachment-image" :src="url" :alt="attachment.name" loading="lazy" decoding="async"
        :width="box ? box.width : null" :height="box ? box.height : null"
        :style="imageStyle" @load="loaded" @error="failed = true" />
    </a>
    <a v-else class="attachment-chip" :href="pending ? null : url" rel="noopener noreferrer" :download="pending ? null : ''">
      <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
        <path d="M6 2h9l5 5v15H6zM14 3v5h5" fill="none" stroke="currentColor" stroke-width="1.6"/>
      </svg>
      <span class="attachment-name" dir="auto">{{ attachment.name }}</span>
      <span class="attachment-size">{{ size }}</span>
      <span class="sr-only">, download</span>
    </a>`,
});
