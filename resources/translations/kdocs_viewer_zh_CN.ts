<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
    <context>
        <name>ApiCallsLabel</name>
        <message>
            <location filename="../../kdocs_viewer/gui/api_usage.py" line="+70" />
            <source>API calls today: %1</source>
            <translation>今日 API 调用：%1</translation>
        </message>
        <message>
            <location line="+1" />
            <source>The server has not said how many calls a day it allows.</source>
            <translation>服务器尚未告知每天允许的调用次数。</translation>
        </message>
        <message>
            <location line="+4" />
            <source>API calls today: %1 / %2</source>
            <translation>今日 API 调用：%1 / %2</translation>
        </message>
        <message>
            <location line="+2" />
            <source>The server allows %1 API calls a day.</source>
            <translation>服务器每天允许 %1 次 API 调用。</translation>
        </message>
    </context>
    <context>
        <name>BrowserActions</name>
        <message>
            <location filename="../../kdocs_viewer/gui/menus.py" line="+41" />
            <source>&amp;Filter pictures</source>
            <translation>筛选图片(&amp;F)</translation>
        </message>
        <message>
            <location line="+3" />
            <source>&amp;Bigger tiles</source>
            <translation>放大缩略图(&amp;B)</translation>
        </message>
        <message>
            <location line="+3" />
            <source>S&amp;maller tiles</source>
            <translation>缩小缩略图(&amp;M)</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Re&amp;try failed pictures</source>
            <translation>重试失败的图片(&amp;T)</translation>
        </message>
    </context>
    <context>
        <name>BrowserHandoff</name>
        <message>
            <location filename="../../kdocs_viewer/gui/browser_handoff.py" line="+107" />
            <source>Could not copy the picture: %1</source>
            <translation>无法复制图片：%1</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Picture copied</source>
            <translation>图片已复制</translation>
        </message>
        <message>
            <location line="+8" />
            <source>Drag at most %1 pictures at a time; use “Save” for more.</source>
            <translation>一次最多拖动 %1 张图片；更多图片请使用“保存”。</translation>
        </message>
        <message>
            <location line="+7" />
            <source>unknown error</source>
            <translation>未知错误</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Could not prepare the files to drag: %1</source>
            <translation>无法准备要拖动的文件：%1</translation>
        </message>
    </context>
    <context>
        <name>BrowserToolbar</name>
        <message>
            <location filename="../../kdocs_viewer/gui/browser_toolbar.py" line="+37" />
            <source>Filter by caption, cell or key</source>
            <translation>按标题、单元格或图片键筛选</translation>
        </message>
        <message>
            <location line="+9" />
            <source>Show the pictures of one sheet only</source>
            <translation>只显示一个工作表的图片</translation>
        </message>
        <message>
            <location line="+1" />
            <location line="+51" />
            <source>All sheets</source>
            <translation>所有工作表</translation>
        </message>
        <message>
            <location line="-46" />
            <source>Show pictures of one kind only</source>
            <translation>只显示一种类型的图片</translation>
        </message>
        <message>
            <location line="+1" />
            <location line="+35" />
            <source>All kinds</source>
            <translation>所有类型</translation>
        </message>
        <message>
            <location line="-31" />
            <source>Sort order (choose “Time left” again to re-sort)</source>
            <translation>排序方式（再次选择“剩余时间”可重新排序）</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Workbook order</source>
            <translation>工作簿顺序</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Caption</source>
            <translation>标题</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Time left</source>
            <translation>剩余时间</translation>
        </message>
        <message>
            <location line="+12" />
            <source>Tile size</source>
            <translation>缩略图大小</translation>
        </message>
        <message>
            <location line="+7" />
            <source>Sort:</source>
            <translation>排序：</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Size:</source>
            <translation>大小：</translation>
        </message>
        <message>
            <location line="+27" />
            <source>%1 of %2 shown</source>
            <translation>显示 %1 / %2 张</translation>
        </message>
    </context>
    <context>
        <name>DragExporter</name>
        <message>
            <location filename="../../kdocs_viewer/gui/drag_export.py" line="+156" />
            <source>still writing the files</source>
            <translation>仍在写入文件</translation>
        </message>
    </context>
    <context>
        <name>EditActions</name>
        <message>
            <location filename="../../kdocs_viewer/gui/menus.py" line="+90" />
            <source>&amp;Copy image</source>
            <translation>复制图片(&amp;C)</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Select &amp;all</source>
            <translation>全选(&amp;A)</translation>
        </message>
    </context>
    <context>
        <name>ErrorDialog</name>
        <message>
            <location filename="../../kdocs_viewer/app.py" line="+114" />
            <source>Unexpected error</source>
            <translation>意外错误</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Something went wrong:
%1

The details were written to the log.</source>
            <translation>出现了问题：
%1

详细信息已写入日志。</translation>
        </message>
    </context>
    <context>
        <name>FailureText</name>
        <message>
            <location filename="../../kdocs_viewer/gui/failure_text.py" line="+24" />
            <source>Enter a new access token (File → Set access token…).</source>
            <translation>请输入新的访问令牌（文件 → 设置访问令牌…）。</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Wait a while, or until the quota starts again tomorrow.</source>
            <translation>请稍候再试，或等到明天配额重新开始。</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Check the workbook's file token: no workbook has this one, or it is not shared with you.</source>
            <translation>请检查工作簿的文件 ID（file token）：没有工作簿使用此 ID，或该工作簿未共享给你。</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Check the network connection.</source>
            <translation>请检查网络连接。</translation>
        </message>
        <message>
            <location line="+1" />
            <source>The server had a problem: try again later.</source>
            <translation>服务器出现问题：请稍后再试。</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Correct the value and try again.</source>
            <translation>请更正该值后重试。</translation>
        </message>
        <message>
            <location line="+2" />
            <source>The workbook has no such picture: it was removed, or the list is for another workbook.</source>
            <translation>工作簿中没有这张图片：它已被删除，或该列表属于另一个工作簿。</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Ask again: the server left these pictures out.</source>
            <translation>请重新获取：服务器的回复遗漏了这些图片。</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Ask again for a new link.</source>
            <translation>请重新获取新的链接。</translation>
        </message>
        <message>
            <location line="+1" />
            <source>The link expired or was revoked: ask again for a new one.</source>
            <translation>链接已过期或已被撤销：请重新获取新的链接。</translation>
        </message>
        <message>
            <location line="+3" />
            <source>A login page or a network portal may be in the way: open any web page in a browser first.</source>
            <translation>可能被登录页面或网络认证门户拦截：请先在浏览器中打开任意网页。</translation>
        </message>
        <message>
            <location line="+4" />
            <source>The picture is larger than the viewer accepts.</source>
            <translation>图片超过了查看器可接受的大小。</translation>
        </message>
    </context>
    <context>
        <name>FileListModel</name>
        <message>
            <location filename="../../kdocs_viewer/gui/file_list.py" line="+116" />
            <source>Name</source>
            <translation>名称</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Modified</source>
            <translation>修改时间</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Shared</source>
            <translation>共享</translation>
        </message>
        <message>
            <location line="+15" />
            <source>shared with you</source>
            <translation>与我共享</translation>
        </message>
        <message>
            <location line="+8" />
            <source>Shared with you by its owner</source>
            <translation>由所有者共享给你</translation>
        </message>
    </context>
    <context>
        <name>InputPanel</name>
        <message>
            <location filename="../../kdocs_viewer/gui/input_panel.py" line="+131" />
            <source>Pic list:</source>
            <translation>图片列表：</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Open…</source>
            <translation>打开…</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Read a pic list from a file (or drop the file here)</source>
            <translation>从文件读取图片列表（也可以把文件拖到这里）</translation>
        </message>
        <message>
            <location line="+12" />
            <source>Load</source>
            <translation>加载</translation>
        </message>
        <message>
            <location line="+7" />
            <source>&amp;Import pic list…</source>
            <translation>导入图片列表(&amp;I)…</translation>
        </message>
        <message>
            <location line="+2" />
            <source>&amp;Pic list panel</source>
            <translation>图片列表面板(&amp;P)</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Pic list</source>
            <translation>图片列表</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Show or hide the pic list: paste, import or edit a list of pictures</source>
            <translation>显示或隐藏图片列表：粘贴、导入或编辑图片清单</translation>
        </message>
        <message>
            <location line="+8" />
            <source>&amp;Find pictures in workbook</source>
            <translation>查找工作簿中的图片(&amp;F)</translation>
        </message>
        <message>
            <location line="+2" />
            <source>&amp;Load</source>
            <translation>加载(&amp;L)</translation>
        </message>
        <message>
            <location line="+105" />
            <source>Click “Open workbook…” (Ctrl+O), or press Enter here, to choose it from your files.</source>
            <translation>点击“打开工作簿…”（Ctrl+O），或在此处按回车键，从你的文件中选择它。</translation>
        </message>
        <message>
            <location line="+7" />
            <source>Enter the workbook's file token first.</source>
            <translation>请先输入工作簿的文件 ID。</translation>
        </message>
        <message>
            <location line="+18" />
            <source>Open pic list</source>
            <translation>打开图片列表</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Pic lists (*.json *.csv *.tsv *.txt);;All files (*)</source>
            <translation>图片列表 (*.json *.csv *.tsv *.txt);;所有文件 (*)</translation>
        </message>
        <message>
            <location line="+11" />
            <location line="+16" />
            <source>Reading %1…</source>
            <translation>正在读取 %1…</translation>
        </message>
        <message>
            <location line="-1" />
            <location line="+224" />
            <source>Pasted pic list</source>
            <translation>粘贴的图片列表</translation>
        </message>
        <message>
            <location line="-185" />
            <source>Reading the pic list…</source>
            <translation>正在读取图片列表…</translation>
        </message>
        <message>
            <location line="+17" />
            <source>Could not read the pic list: %1</source>
            <translation>无法读取图片列表：%1</translation>
        </message>
        <message>
            <location line="+13" />
            <source>The pic list changed: press Load again.</source>
            <translation>图片列表已更改：请再次点击“加载”。</translation>
        </message>
        <message>
            <location line="+41" />
            <source>Not loaded. The list is kept; press Load to be asked again.</source>
            <translation>未加载。列表已保留；再次点击“加载”会重新询问。</translation>
        </message>
        <message>
            <location line="+46" />
            <source>Pictures found in the workbook</source>
            <translation>在工作簿中找到的图片</translation>
        </message>
        <message>
            <location line="+8" />
            <source>Looking for pictures in the workbook…</source>
            <translation>正在查找工作簿中的图片…</translation>
        </message>
        <message>
            <location line="+22" />
            <source>Could not list the workbook's pictures: %1</source>
            <translation>无法列出工作簿中的图片：%1</translation>
        </message>
        <message>
            <location line="+7" />
            <source>No pictures found in this workbook.</source>
            <translation>此工作簿中没有找到图片。</translation>
        </message>
        <message>
            <location line="+12" />
            <source>Pictures found. Click “Load” to show them once you are signed in.</source>
            <translation>已找到图片。登录后点击“加载”即可显示。</translation>
        </message>
        <message>
            <location line="+31" />
            <source>Read %1: %2 pictures. Click “Load” to show them.</source>
            <translation>已读取 %1：%2 张图片。点击“加载”显示它们。</translation>
        </message>
        <message>
            <location line="+9" />
            <source>Read %1. Click “Load” to show its pictures.</source>
            <translation>已读取 %1。点击“加载”显示其中的图片。</translation>
        </message>
    </context>
    <context>
        <name>LanguageMenu</name>
        <message>
            <location filename="../../kdocs_viewer/gui/menus.py" line="+45" />
            <source>&amp;Language</source>
            <translation>语言(&amp;L)</translation>
        </message>
        <message>
            <location line="+11" />
            <source>The language changes the next time kdocs-viewer starts.</source>
            <translation>语言将在下次启动 kdocs-viewer 时生效。</translation>
        </message>
        <message>
            <location line="+5" />
            <source>Language</source>
            <translation>语言</translation>
        </message>
    </context>
    <context>
        <name>LargeListQuestion</name>
        <message>
            <location filename="../../kdocs_viewer/gui/pic_input.py" line="+131" />
            <source>Load a large pic list?</source>
            <translation>加载一个很大的图片列表？</translation>
        </message>
        <message>
            <location line="+2" />
            <source>This list has %1 pictures. Getting their links takes about %2 API calls.</source>
            <translation>此列表有 %1 张图片。获取它们的链接大约需要 %2 次 API 调用。</translation>
        </message>
        <message>
            <location line="+5" />
            <source>The server allows %1 API calls a day.</source>
            <translation>服务器每天允许 %1 次 API 调用。</translation>
        </message>
        <message>
            <location line="+2" />
            <source>A KDocs test app may make %1 API calls a day.</source>
            <translation>金山文档测试应用每天最多可调用 %1 次 API。</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Load all</source>
            <translation>全部加载</translation>
        </message>
    </context>
    <context>
        <name>LeaseKeeper</name>
        <message numerus="yes">
            <location filename="../../kdocs_viewer/gui/lease_keeper.py" line="+224" />
            <source>No download link for %n picture(s): %1 (F5 retries)</source>
            <translation>
                <numerusform>有 %n 张图片未能取得下载链接：%1（按 F5 重试）</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <location line="+4" />
            <source>Could not refresh %n picture link(s): %1</source>
            <translation>
                <numerusform>有 %n 个图片链接刷新失败：%1</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message>
            <location filename="../../kdocs_viewer/gui/main_window.py" line="+85" />
            <location line="+264" />
            <source>KDocs picture viewer</source>
            <translation>金山文档图片查看器</translation>
        </message>
        <message>
            <location line="-237" />
            <source>No pictures yet.

Click “Open workbook…” (Ctrl+O) to choose one of your workbooks, or enter its file token and click “Find pictures in workbook”.
A pic list can be imported from the File menu or dropped on the window.</source>
            <translation>还没有图片。

点击“打开工作簿…”（Ctrl+O）从你的工作簿中选择一个，或者输入工作簿的文件 ID 后点击“查找工作簿中的图片”。
图片列表可以从“文件”菜单导入，也可以拖放到窗口上。</translation>
        </message>
        <message>
            <location line="+43" />
            <source>&amp;Save selected…</source>
            <translation>保存所选(&amp;S)…</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Save a&amp;ll…</source>
            <translation>全部保存(&amp;L)…</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Set access &amp;token…</source>
            <translation>设置访问令牌(&amp;T)…</translation>
        </message>
        <message>
            <location line="+1" />
            <source>&amp;Quit</source>
            <translation>退出(&amp;Q)</translation>
        </message>
        <message>
            <location line="+1" />
            <source>&amp;Refresh links before they expire</source>
            <translation>在链接过期前自动刷新(&amp;R)</translation>
        </message>
        <message>
            <location line="+25" />
            <source>&amp;File</source>
            <translation>文件(&amp;F)</translation>
        </message>
        <message>
            <location line="+11" />
            <source>&amp;Account</source>
            <translation>账户(&amp;A)</translation>
        </message>
        <message>
            <location line="+4" />
            <source>&amp;Workbook</source>
            <translation>工作簿(&amp;W)</translation>
        </message>
        <message>
            <location line="+7" />
            <source>&amp;Edit</source>
            <translation>编辑(&amp;E)</translation>
        </message>
        <message>
            <location line="+6" />
            <source>&amp;View</source>
            <translation>查看(&amp;V)</translation>
        </message>
        <message>
            <location line="+12" />
            <source>&amp;Help</source>
            <translation>帮助(&amp;H)</translation>
        </message>
    </context>
    <context>
        <name>PicListEditor</name>
        <message>
            <location filename="../../kdocs_viewer/gui/pic_list_editor.py" line="+41" />
            <source>Paste a pic list: the API's JSON body {"pics": [...]}, a cells response, CSV/TSV (pic_key,tag) or one "pic_key tag" per line. Or drop a file here.</source>
            <translation>粘贴图片列表：接口的 JSON 请求体 {"pics": [...]}、单元格接口的返回、CSV/TSV（pic_key,tag），或每行一个“pic_key tag”。也可以把文件拖到这里。</translation>
        </message>
    </context>
    <context>
        <name>PicListMessages</name>
        <message>
            <location filename="../../kdocs_viewer/gui/pic_list_messages.py" line="+28" />
            <source>… and %1 more problems</source>
            <translation>…… 另有 %1 个问题</translation>
        </message>
        <message>
            <location line="+7" />
            <source>Loaded %1 pictures.</source>
            <translation>已加载 %1 张图片。</translation>
        </message>
        <message>
            <location line="+6" />
            <source>Duplicates ignored: %1</source>
            <translation>已忽略重复项：%1</translation>
        </message>
        <message>
            <location line="+9" />
            <source>%1 has a problem:</source>
            <translation>%1 有问题：</translation>
        </message>
        <message>
            <location line="+2" />
            <source>The pic list has a problem:</source>
            <translation>图片列表有问题：</translation>
        </message>
        <message>
            <location line="+6" />
            <source>Picture cells that could not be read: %1</source>
            <translation>无法读取的图片单元格：%1</translation>
        </message>
        <message>
            <location line="+11" />
            <source>Could not read %1: %2</source>
            <translation>无法读取 %1：%2</translation>
        </message>
    </context>
    <context>
        <name>PicListSummary</name>
        <message>
            <location filename="../../kdocs_viewer/gui/pic_input.py" line="-51" />
            <source>Too big to edit here: Load uses this list as it was read. Edit the file elsewhere.</source>
            <translation>列表太大，无法在此编辑：“加载”将按读取时的内容使用它。如需修改，请在其他编辑器中编辑该文件。</translation>
        </message>
        <message>
            <location line="+7" />
            <source>Clear</source>
            <translation>清除</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Drop this list and go back to the text you had</source>
            <translation>放弃此列表，回到之前的文本</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Open another…</source>
            <translation>打开其他文件…</translation>
        </message>
        <message>
            <location line="+11" />
            <source>%1 — %2 pictures, %3</source>
            <translation>%1 —— %2 张图片，%3</translation>
        </message>
    </context>
    <context>
        <name>PictureModel</name>
        <message>
            <location filename="../../kdocs_viewer/gui/picture_model.py" line="+359" />
            <source>Key: %1</source>
            <translation>图片键：%1</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Tag: %1</source>
            <translation>类型：%1</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Error: %1</source>
            <translation>错误：%1</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Loading…</source>
            <translation>正在加载…</translation>
        </message>
    </context>
    <context>
        <name>PreviewDialog</name>
        <message>
            <location filename="../../kdocs_viewer/gui/preview.py" line="+232" />
            <source>Preview</source>
            <translation>预览</translation>
        </message>
        <message>
            <location line="+16" />
            <source>◀ Previous</source>
            <translation>◀ 上一张</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Next ▶</source>
            <translation>下一张 ▶</translation>
        </message>
        <message>
            <location line="-166" />
            <location line="+167" />
            <source>Fit</source>
            <translation>适应窗口</translation>
        </message>
        <message>
            <location line="-166" />
            <location line="+167" />
            <source>100 %</source>
            <translation>100%</translation>
        </message>
        <message>
            <location line="-178" />
            <location line="+179" />
            <source>Zoom in</source>
            <translation>放大</translation>
        </message>
        <message>
            <location line="-191" />
            <source>Previous picture</source>
            <translation>上一张</translation>
        </message>
        <message>
            <location line="+6" />
            <source>Next picture</source>
            <translation>下一张</translation>
        </message>
        <message>
            <location line="+12" />
            <location line="+174" />
            <source>Zoom out</source>
            <translation>缩小</translation>
        </message>
        <message>
            <location line="-168" />
            <source>Rotate left</source>
            <translation>向左旋转</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Rotate right</source>
            <translation>向右旋转</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Save…</source>
            <translation>保存…</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Copy image</source>
            <translation>复制图片</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Full screen</source>
            <translation>全屏</translation>
        </message>
        <message>
            <location line="+200" />
            <source>Key</source>
            <translation>图片键</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Tag</source>
            <translation>类型</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Cell</source>
            <translation>单元格</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Caption</source>
            <translation>标题</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Format</source>
            <translation>格式</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Pixel size</source>
            <translation>像素尺寸</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Size</source>
            <translation>大小</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Time left</source>
            <translation>剩余时间</translation>
        </message>
        <message>
            <location line="+100" />
            <source>%1 of %2</source>
            <translation>第 %1 张，共 %2 张</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Preview — %1</source>
            <translation>预览 —— %1</translation>
        </message>
        <message>
            <location line="+33" />
            <location line="+12" />
            <source>Cannot show this picture: %1</source>
            <translation>无法显示此图片：%1</translation>
        </message>
        <message>
            <location line="-10" />
            <source>Loading…</source>
            <translation>正在加载…</translation>
        </message>
        <message>
            <location line="+44" />
            <source>not resolved yet</source>
            <translation>尚未获取链接</translation>
        </message>
        <message>
            <location line="+31" />
            <source>%1 %</source>
            <translation>%1%</translation>
        </message>
        <message>
            <location line="+12" />
            <source>The picture is not loaded yet; copy it once it shows.</source>
            <translation>图片尚未加载；显示出来后再复制。</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Picture copied</source>
            <translation>图片已复制</translation>
        </message>
    </context>
    <context>
        <name>QFileDialog</name>
        <message>
            <location filename="../../kdocs_viewer/gui/i18n.py" line="+42" />
            <source>&amp;Look in:</source>
            <translation>查找范围(&amp;L)：</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Files of &amp;type:</source>
            <translation>文件类型(&amp;T)：</translation>
        </message>
    </context>
    <context>
        <name>ReadmeDialog</name>
        <message>
            <location filename="../../kdocs_viewer/gui/help_dialogs.py" line="+119" />
            <source>Read me</source>
            <translation>使用说明</translation>
        </message>
    </context>
    <context>
        <name>SaveController</name>
        <message>
            <location filename="../../kdocs_viewer/gui/save_controller.py" line="+68" />
            <source>Select the pictures to save first.</source>
            <translation>请先选择要保存的图片。</translation>
        </message>
        <message>
            <location line="+76" />
            <source>Could not save: %1</source>
            <translation>无法保存：%1</translation>
        </message>
    </context>
    <context>
        <name>SaveDialog</name>
        <message>
            <location filename="../../kdocs_viewer/gui/save_dialog.py" line="+58" />
            <source>Skip if identical, else keep both</source>
            <translation>内容相同则跳过，否则两者都保留</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Always keep both (add a number)</source>
            <translation>总是两者都保留（加编号）</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Skip the picture</source>
            <translation>跳过该图片</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Replace the existing file</source>
            <translation>替换已有文件</translation>
        </message>
        <message>
            <location line="+26" />
            <source>Save selected pictures</source>
            <translation>保存所选图片</translation>
        </message>
        <message>
            <location line="+7" />
            <source>Pictures to save: %1</source>
            <translation>待保存图片：%1</translation>
        </message>
        <message>
            <location line="+6" />
            <source>Choose a folder</source>
            <translation>选择文件夹</translation>
        </message>
        <message>
            <location line="+1" />
            <source>&amp;Browse…</source>
            <translation>浏览(&amp;B)…</translation>
        </message>
        <message>
            <location line="+4" />
            <source>&amp;Folder:</source>
            <translation>文件夹(&amp;F)：</translation>
        </message>
        <message>
            <location line="+5" />
            <source>File &amp;names:</source>
            <translation>文件名(&amp;N)：</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Fields: %1 — the extension is added from the picture itself.</source>
            <translation>可用字段：%1 —— 扩展名根据图片内容自动添加。</translation>
        </message>
        <message>
            <location line="+8" />
            <source>First file:</source>
            <translation>第一个文件：</translation>
        </message>
        <message>
            <location line="+6" />
            <source>If a file &amp;exists:</source>
            <translation>文件已存在时(&amp;E)：</translation>
        </message>
        <message>
            <location line="+35" />
            <source>Invalid template: %1</source>
            <translation>模板无效：%1</translation>
        </message>
        <message>
            <location line="+14" />
            <source>Save pictures to</source>
            <translation>将图片保存到</translation>
        </message>
    </context>
    <context>
        <name>SaveProgressDialog</name>
        <message>
            <location line="+16" />
            <source>Saving pictures</source>
            <translation>正在保存图片</translation>
        </message>
        <message>
            <location line="+5" />
            <location line="+31" />
            <source>Saved %1 of %2</source>
            <translation>已保存 %1 / %2</translation>
        </message>
        <message>
            <location line="-21" />
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <location line="+27" />
            <source>About %1 left</source>
            <translation>大约还需 %1</translation>
        </message>
        <message>
            <location line="+7" />
            <source>Cancelling…</source>
            <translation>正在取消…</translation>
        </message>
    </context>
    <context>
        <name>SaveSummaryDialog</name>
        <message>
            <location line="+27" />
            <source>Save finished</source>
            <translation>保存完成</translation>
        </message>
        <message>
            <location line="+5" />
            <source>Saved: %1</source>
            <translation>已保存：%1</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Skipped: %1</source>
            <translation>已跳过：%1</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Failed: %1</source>
            <translation>失败：%1</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Cancelled: %1</source>
            <translation>已取消：%1</translation>
        </message>
        <message>
            <location line="+6" />
            <source>Folder: %1</source>
            <translation>文件夹：%1</translation>
        </message>
        <message>
            <location line="+8" />
            <source>Failed</source>
            <translation>失败</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Skipped</source>
            <translation>已跳过</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Cancelled</source>
            <translation>已取消</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Saved</source>
            <translation>已保存</translation>
        </message>
        <message>
            <location line="+16" />
            <source>&amp;Retry failed</source>
            <translation>重试失败项(&amp;R)</translation>
        </message>
        <message>
            <location line="+2" />
            <source>&amp;Open folder</source>
            <translation>打开文件夹(&amp;O)</translation>
        </message>
    </context>
    <context>
        <name>SessionBus</name>
        <message>
            <location filename="../../kdocs_viewer/app.py" line="+147" />
            <source>Running without D-Bus: the session bus did not answer, so there is no keyring, screen reader or input method this time.</source>
            <translation>未使用 D-Bus 运行：会话总线没有响应，因此本次无法使用密钥环、屏幕阅读器和输入法。</translation>
        </message>
    </context>
    <context>
        <name>ShortcutsDialog</name>
        <message>
            <location filename="../../kdocs_viewer/gui/help_dialogs.py" line="-50" />
            <source>Keyboard shortcuts</source>
            <translation>键盘快捷键</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Where</source>
            <translation>位置</translation>
        </message>
        <message>
            <location line="+0" />
            <source>Action</source>
            <translation>操作</translation>
        </message>
        <message>
            <location line="+0" />
            <source>Keys</source>
            <translation>按键</translation>
        </message>
    </context>
    <context>
        <name>SignInAttempts</name>
        <message>
            <location filename="../../kdocs_viewer/gui/signin_attempt.py" line="+104" />
            <source>No browser could be opened. Copy the sign-in address into a browser yourself, allow access, and paste the address it ends up on.</source>
            <translation>无法打开浏览器。请自行把登录地址复制到浏览器中，允许访问，然后粘贴浏览器最终跳转到的地址。</translation>
        </message>
    </context>
    <context>
        <name>SignInController</name>
        <message>
            <location filename="../../kdocs_viewer/gui/signin_controller.py" line="+110" />
            <source>Sign &amp;in with KDocs…</source>
            <translation>使用金山文档登录(&amp;I)…</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Sign &amp;out</source>
            <translation>退出登录(&amp;O)</translation>
        </message>
        <message>
            <location line="+32" />
            <source>Sign in with your KDocs app</source>
            <translation>使用你的金山文档应用登录</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Demo sign-in: kept for this session only.</source>
            <translation>演示登录：仅在本次会话中保留。</translation>
        </message>
        <message>
            <location line="+2" />
            <location line="+281" />
            <source>Keyring unavailable — the sign-in is kept for this session only.</source>
            <translation>密钥环不可用 —— 登录信息仅在本次会话中保留。</translation>
        </message>
        <message>
            <location line="-279" />
            <source>Your APPKEY and tokens are kept in the keyring (%1).</source>
            <translation>你的 APPKEY 和令牌保存在密钥环中（%1）。</translation>
        </message>
        <message>
            <location line="+1" />
            <source>keyring</source>
            <translation>密钥环</translation>
        </message>
        <message>
            <location line="+83" />
            <source>Demo server: the sign-in is kept for this session only.</source>
            <translation>演示服务器：登录信息仅在本次会话中保留。</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Keyring unavailable — the sign-in will be kept for this session only.</source>
            <translation>密钥环不可用 —— 登录信息将仅在本次会话中保留。</translation>
        </message>
        <message>
            <location line="+1" />
            <source>the system keyring</source>
            <translation>系统密钥环</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Your APPKEY and tokens are kept in %1, never in a file.</source>
            <translation>你的 APPKEY 和令牌保存在%1中，绝不写入文件。</translation>
        </message>
        <message>
            <location line="+186" />
            <source>Signed in to KDocs as %1.</source>
            <translation>已登录金山文档：%1。</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Signed in to KDocs.</source>
            <translation>已登录金山文档。</translation>
        </message>
        <message>
            <location line="+25" />
            <source>Signed out. Your APPKEY and tokens were removed from the keyring.</source>
            <translation>已退出登录。你的 APPKEY 和令牌已从密钥环中删除。</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Signed out.</source>
            <translation>已退出登录。</translation>
        </message>
        <message>
            <location line="+27" />
            <source>Your stored sign-in could not be read: %1</source>
            <translation>无法读取已保存的登录信息：%1</translation>
        </message>
        <message>
            <location line="+11" />
            <source>Keyring unavailable — the sign-in is kept for this session only. (%1)</source>
            <translation>密钥环不可用 —— 登录信息仅在本次会话中保留。（%1）</translation>
        </message>
        <message>
            <location line="+8" />
            <source>Could not remove the sign-in from the keyring: %1</source>
            <translation>无法从密钥环中删除登录信息：%1</translation>
        </message>
    </context>
    <context>
        <name>SignInDialog</name>
        <message>
            <location filename="../../kdocs_viewer/gui/signin_dialog.py" line="+58" />
            <location line="+45" />
            <source>Sign in with KDocs</source>
            <translation>使用金山文档登录</translation>
        </message>
        <message>
            <location line="-19" />
            <source>&amp;Sign in</source>
            <translation>登录(&amp;S)</translation>
        </message>
        <message>
            <location line="+3" />
            <location line="+245" />
            <location line="+17" />
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <location line="-237" />
            <source>kdocs-viewer reads your spreadsheets through your own KDocs app; it never comes with one. Set one up once:</source>
            <translation>kdocs-viewer 通过你自己的金山文档应用读取你的表格，本程序不自带应用。只需设置一次：</translation>
        </message>
        <message>
            <location line="+7" />
            <source>KDocs developer console</source>
            <translation>金山文档开发者后台</translation>
        </message>
        <message>
            <location line="+2" />
            <source>1. Create an app in the %1.</source>
            <translation>1. 在%1创建一个应用。</translation>
        </message>
        <message>
            <location line="+7" />
            <source>2. Register this callback URL and these scopes for the app:</source>
            <translation>2. 为该应用登记下面的回调地址和权限范围：</translation>
        </message>
        <message>
            <location line="+8" />
            <source>Callback URL:</source>
            <translation>回调地址：</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Scopes:</source>
            <translation>权限范围：</translation>
        </message>
        <message>
            <location line="+4" />
            <source>3. Enter the app's APPID and APPKEY and click Sign in: your browser opens and asks you to allow access.</source>
            <translation>3. 输入应用的 APPID 和 APPKEY，然后点击“登录”：浏览器会打开并请你允许访问。</translation>
        </message>
        <message>
            <location line="+11" />
            <source>the app's APPID</source>
            <translation>应用的 APPID</translation>
        </message>
        <message>
            <location line="+1" />
            <source>APP&amp;ID:</source>
            <translation>APP&amp;ID：</translation>
        </message>
        <message>
            <location line="+5" />
            <location line="+140" />
            <source>the app's APPKEY</source>
            <translation>应用的 APPKEY</translation>
        </message>
        <message>
            <location line="-139" />
            <source>APP&amp;KEY:</source>
            <translation>APP&amp;KEY：</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Show the APPKEY</source>
            <translation>显示 APPKEY</translation>
        </message>
        <message>
            <location line="+8" />
            <source>Advanced</source>
            <translation>高级</translation>
        </message>
        <message>
            <location line="+16" />
            <source>Callback &amp;port:</source>
            <translation>回调端口(&amp;P)：</translation>
        </message>
        <message>
            <location line="+2" />
            <source>The port of the callback URL registered in the console: change both together.</source>
            <translation>开发者后台登记的回调地址中的端口：两处要一起修改。</translation>
        </message>
        <message>
            <location line="+5" />
            <source>Paste an access &amp;token instead…</source>
            <translation>改为粘贴访问令牌(&amp;T)…</translation>
        </message>
        <message>
            <location line="+19" />
            <source>Waiting for the browser…</source>
            <translation>正在等待浏览器…</translation>
        </message>
        <message>
            <location line="+9" />
            <source>Allow access in the browser window that opened: it comes back to kdocs-viewer by itself.</source>
            <translation>请在打开的浏览器窗口中允许访问：之后会自动回到 kdocs-viewer。</translation>
        </message>
        <message>
            <location line="+8" />
            <source>No browser opened, or it runs on another computer? Open the sign-in address there, allow access, and paste the address the browser ends up on below (the page itself may not load).</source>
            <translation>没有打开浏览器，或浏览器在另一台电脑上？请在那里打开登录地址，允许访问，然后把浏览器最终跳转到的地址粘贴到下面（该页面本身可能无法加载）。</translation>
        </message>
        <message>
            <location line="+8" />
            <source>&amp;Copy the sign-in address</source>
            <translation>复制登录地址(&amp;C)</translation>
        </message>
        <message>
            <location line="+11" />
            <location line="+114" />
            <source>&amp;Use this address</source>
            <translation>使用此地址(&amp;U)</translation>
        </message>
        <message>
            <location line="-94" />
            <source>Copy</source>
            <translation>复制</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Copy to the clipboard</source>
            <translation>复制到剪贴板</translation>
        </message>
        <message>
            <location line="+28" />
            <source>leave empty to use the APPKEY of your last sign-in</source>
            <translation>留空则使用上次登录的 APPKEY</translation>
        </message>
        <message>
            <location line="+64" />
            <source>Checking…</source>
            <translation>正在核对…</translation>
        </message>
    </context>
    <context>
        <name>StatusBar</name>
        <message>
            <location filename="../../kdocs_viewer/gui/status_bar.py" line="+42" />
            <source>Sign out</source>
            <translation>退出登录</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Sign in…</source>
            <translation>登录…</translation>
        </message>
        <message>
            <location line="+13" />
            <source>Pictures: %1 · loaded: %2 · failed: %3 · expiring soon: %4</source>
            <translation>图片：%1 · 已加载：%2 · 失败：%3 · 即将过期：%4</translation>
        </message>
        <message>
            <location line="+8" />
            <source>Selected: %1</source>
            <translation>已选：%1</translation>
        </message>
        <message>
            <location line="+12" />
            <source>Signed in as %1</source>
            <translation>已登录：%1</translation>
        </message>
        <message>
            <location line="+0" />
            <source>Signed in</source>
            <translation>已登录</translation>
        </message>
    </context>
    <context>
        <name>Tags</name>
        <message>
            <location filename="../../kdocs_viewer/gui/i18n.py" line="+98" />
            <source>attachment</source>
            <translation>附件</translation>
        </message>
        <message>
            <location line="+1" />
            <source>local</source>
            <translation>本地</translation>
        </message>
        <message>
            <location line="+1" />
            <source>cloud</source>
            <translation>云端</translation>
        </message>
    </context>
    <context>
        <name>ThumbnailCacheActions</name>
        <message>
            <location filename="../../kdocs_viewer/gui/thumbnail_cache_actions.py" line="+27" />
            <source>Keep &amp;thumbnails between sessions</source>
            <translation>在会话之间保留缩略图(&amp;T)</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Clear thumbnail &amp;cache</source>
            <translation>清除缩略图缓存(&amp;C)</translation>
        </message>
        <message>
            <location line="+25" />
            <source>Thumbnail cache cleared (%1 thumbnails removed).</source>
            <translation>缩略图缓存已清除（删除了 %1 个缩略图）。</translation>
        </message>
    </context>
    <context>
        <name>ThumbnailLoader</name>
        <message>
            <location filename="../../kdocs_viewer/gui/decode.py" line="+72" />
            <source>empty file</source>
            <translation>空文件</translation>
        </message>
        <message>
            <location line="+5" />
            <source>not a picture format this viewer can show (it can show %1)</source>
            <translation>不是本查看器能显示的图片格式（可显示：%1）</translation>
        </message>
        <message>
            <location line="+4" />
            <source>this viewer cannot show %1 pictures (it can show %2)</source>
            <translation>本查看器无法显示 %1 图片（可显示：%2）</translation>
        </message>
        <message>
            <location line="+20" />
            <source>too large to show: %1 × %2 pixels (saving it still works)</source>
            <translation>图片过大，无法显示：%1 × %2 像素（仍可保存）</translation>
        </message>
        <message>
            <location line="+10" />
            <source>not a valid image: %1</source>
            <translation>不是有效的图片：%1</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/gui/thumbnails.py" line="+510" />
            <source>the access token was rejected</source>
            <translation>访问令牌被拒绝</translation>
        </message>
        <message>
            <location line="+2" />
            <source>cancelled</source>
            <translation>已取消</translation>
        </message>
    </context>
    <context>
        <name>TileDelegate</name>
        <message>
            <location filename="../../kdocs_viewer/gui/tile_delegate.py" line="+102" />
            <source>expired</source>
            <translation>已过期</translation>
        </message>
        <message>
            <location line="+355" />
            <source>Failed</source>
            <translation>失败</translation>
        </message>
    </context>
    <context>
        <name>TileMenu</name>
        <message>
            <location filename="../../kdocs_viewer/gui/tile_menu.py" line="+32" />
            <source>Preview</source>
            <translation>预览</translation>
        </message>
        <message>
            <location line="+2" />
            <location line="+20" />
            <source>Save…</source>
            <translation>保存…</translation>
        </message>
        <message>
            <location line="-17" />
            <source>Copy image</source>
            <translation>复制图片</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Copy cell address</source>
            <translation>复制单元格地址</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Copy key</source>
            <translation>复制 key</translation>
        </message>
        <message>
            <location line="+14" />
            <source>Save %1 pictures…</source>
            <translation>保存 %1 张图片…</translation>
        </message>
        <message>
            <location line="+10" />
            <source>Cell address copied</source>
            <translation>单元格地址已复制</translation>
        </message>
        <message>
            <location line="+0" />
            <source>%1 cell addresses copied</source>
            <translation>已复制 %1 个单元格地址</translation>
        </message>
        <message>
            <location line="+7" />
            <source>Key copied</source>
            <translation>key 已复制</translation>
        </message>
        <message>
            <location line="+0" />
            <source>%1 keys copied</source>
            <translation>已复制 %1 个 key</translation>
        </message>
    </context>
    <context>
        <name>TokenController</name>
        <message>
            <location filename="../../kdocs_viewer/gui/token_controller.py" line="+139" />
            <source>keyring</source>
            <translation>密钥环</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Token: stored in keyring (%1)</source>
            <translation>令牌：已保存在密钥环（%1）</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Token: demo, this session only</source>
            <translation>令牌：演示用，仅本次会话</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Token: from your KDocs sign-in</source>
            <translation>令牌：来自你的金山文档登录</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Renewed automatically before it expires. Click to set an access token by hand instead.</source>
            <translation>在过期前自动续期。点击可改为手动设置访问令牌。</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Token: this session only</source>
            <translation>令牌：仅本次会话</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Token: checking keyring…</source>
            <translation>令牌：正在检查密钥环…</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Token: none</source>
            <translation>令牌：无</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Keyring unavailable — kept for this session only</source>
            <translation>密钥环不可用 —— 仅在本次会话中保留</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Set, replace or forget the access token</source>
            <translation>设置、更换或忘记访问令牌</translation>
        </message>
        <message>
            <location line="+69" />
            <source>The access token was forgotten.</source>
            <translation>已忘记访问令牌。</translation>
        </message>
        <message>
            <location line="+47" />
            <source>Looking for a stored access token…</source>
            <translation>正在查找已保存的访问令牌…</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Waiting for the sign-in to finish…</source>
            <translation>正在等待登录完成…</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Sign in to KDocs to read the workbook.</source>
            <translation>请登录金山文档以读取工作簿。</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Not signed in: use Account → Sign in… or File → Set access token…</source>
            <translation>未登录：请使用“账户 → 登录…”或“文件 → 设置访问令牌…”</translation>
        </message>
        <message>
            <location line="+6" />
            <source>An access token is needed to read the workbook.</source>
            <translation>读取工作簿需要访问令牌。</translation>
        </message>
        <message>
            <location line="+2" />
            <source>No access token: set one with File → Set access token…</source>
            <translation>没有访问令牌：请通过“文件 → 设置访问令牌…”设置。</translation>
        </message>
        <message>
            <location line="+25" />
            <source>You signed out: loading is paused until you sign in again (Account → Sign in…).</source>
            <translation>你已退出登录：加载已暂停，重新登录后继续（账户 → 登录…）。</translation>
        </message>
        <message>
            <location line="+6" />
            <source>KDocs no longer accepts your sign-in (it expired or was revoked). Sign in again; the picture list and your selection are kept.</source>
            <translation>金山文档不再接受你的登录（已过期或已被撤销）。请重新登录；图片列表和当前选择都会保留。</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Loading is paused until you sign in again (Account → Sign in…).</source>
            <translation>加载已暂停，重新登录后继续（账户 → 登录…）。</translation>
        </message>
        <message>
            <location line="+4" />
            <source>The server rejected the access token (code 20007) — it may have expired. Enter a new one; the picture list and your selection are kept.</source>
            <translation>服务器拒绝了访问令牌（代码 20007），令牌可能已过期。请输入新的令牌；图片列表和当前选择都会保留。</translation>
        </message>
        <message>
            <location line="+6" />
            <source>Loading is paused until a new access token is set (File → Set access token…).</source>
            <translation>加载已暂停，设置新的访问令牌后继续（文件 → 设置访问令牌…）。</translation>
        </message>
        <message>
            <location line="+20" />
            <source>Keyring unavailable — a token you enter is kept for this session only. (%1)</source>
            <translation>密钥环不可用 —— 输入的令牌仅在本次会话中保留。（%1）</translation>
        </message>
        <message>
            <location line="+31" />
            <source>Keyring unavailable — the token is kept for this session only. (%1)</source>
            <translation>密钥环不可用 —— 令牌仅在本次会话中保留。（%1）</translation>
        </message>
        <message>
            <location line="+8" />
            <source>Could not remove the token from the keyring: %1</source>
            <translation>无法从密钥环中删除令牌：%1</translation>
        </message>
    </context>
    <context>
        <name>TokenDialog</name>
        <message>
            <location filename="../../kdocs_viewer/gui/token_dialog.py" line="+57" />
            <source>Access token</source>
            <translation>访问令牌</translation>
        </message>
        <message>
            <location line="+13" />
            <source>Paste the access token issued for your KDocs app. It is sent only to the API server and is never written to a settings file or a log.</source>
            <translation>请粘贴为你的金山文档应用签发的访问令牌。它只会发送给 API 服务器，不会写入设置文件或日志。</translation>
        </message>
        <message>
            <location line="+10" />
            <source>access token</source>
            <translation>访问令牌</translation>
        </message>
        <message>
            <location line="+6" />
            <source>&amp;Token:</source>
            <translation>令牌(&amp;T)：</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Show the token</source>
            <translation>显示令牌</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Server:</source>
            <translation>服务器：</translation>
        </message>
        <message>
            <location line="+3" />
            <source>checking…</source>
            <translation>正在检查…</translation>
        </message>
        <message>
            <location line="+0" />
            <source>not checked yet</source>
            <translation>尚未检查</translation>
        </message>
        <message>
            <location line="+2" />
            <source>not used by the demo server</source>
            <translation>演示服务器不使用</translation>
        </message>
        <message>
            <location line="+2" />
            <source>%1 — unavailable</source>
            <translation>%1 —— 不可用</translation>
        </message>
        <message>
            <location line="+0" />
            <source>keyring</source>
            <translation>密钥环</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Keyring:</source>
            <translation>密钥环：</translation>
        </message>
        <message>
            <location line="+3" />
            <source>&amp;Remember in keyring</source>
            <translation>保存在密钥环中(&amp;R)</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Demo server: the token is kept for this session only</source>
            <translation>演示服务器：令牌仅在本次会话中保留</translation>
        </message>
        <message>
            <location line="+6" />
            <source>Keyring unavailable — kept for this session only</source>
            <translation>密钥环不可用 —— 仅在本次会话中保留</translation>
        </message>
        <message>
            <location line="+6" />
            <source>&amp;Forget token</source>
            <translation>忘记令牌(&amp;F)</translation>
        </message>
    </context>
    <context>
        <name>WindowActions</name>
        <message>
            <location filename="../../kdocs_viewer/gui/menus.py" line="-131" />
            <source>F&amp;ull screen</source>
            <translation>全屏(&amp;U)</translation>
        </message>
        <message>
            <location line="+4" />
            <source>&amp;Keyboard shortcuts</source>
            <translation>键盘快捷键(&amp;K)</translation>
        </message>
        <message>
            <location line="+3" />
            <source>&amp;Read me</source>
            <translation>使用说明(&amp;R)</translation>
        </message>
        <message>
            <location line="+3" />
            <source>&amp;About kdocs-viewer</source>
            <translation>关于 kdocs-viewer(&amp;A)</translation>
        </message>
        <message>
            <location line="+18" />
            <source>Preview</source>
            <translation>预览</translation>
        </message>
        <message>
            <location line="+14" />
            <source>Read me</source>
            <translation>使用说明</translation>
        </message>
        <message>
            <location line="+1" />
            <source>This installation does not include the README.</source>
            <translation>此安装不包含 README 说明文件。</translation>
        </message>
        <message>
            <location line="+11" />
            <source>About kdocs-viewer</source>
            <translation>关于 kdocs-viewer</translation>
        </message>
        <message>
            <location line="+2" />
            <source>kdocs-viewer %1
A viewer for the pictures inside KDocs (金山文档) spreadsheets.</source>
            <translation>kdocs-viewer %1
查看金山文档表格中图片的工具。</translation>
        </message>
    </context>
    <context>
        <name>WorkbookBar</name>
        <message>
            <location filename="../../kdocs_viewer/gui/workbook_bar.py" line="+40" />
            <source>Workbook file token:</source>
            <translation>工作簿文件 ID（file token）：</translation>
        </message>
        <message>
            <location line="+3" />
            <source>the id of the workbook, e.g. demo-workbook</source>
            <translation>工作簿的 ID，例如 demo-workbook</translation>
        </message>
        <message>
            <location line="+3" />
            <source>The workbook's file token (its document id). A share link names the link, not the workbook: “Open workbook…” finds it by name.</source>
            <translation>工作簿的文件 ID（file token，即文档 ID）。分享链接指的是链接而不是工作簿：请用“打开工作簿…”按名称查找。</translation>
        </message>
        <message>
            <location line="+9" />
            <source>Find pictures in workbook</source>
            <translation>查找工作簿中的图片</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Read the workbook's cells and list every picture in it</source>
            <translation>读取工作簿的单元格，列出其中所有图片</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Open workbook…</source>
            <translation>打开工作簿…</translation>
        </message>
        <message>
            <location line="+28" />
            <source>No workbook open</source>
            <translation>未打开工作簿</translation>
        </message>
    </context>
    <context>
        <name>WorkbookOpener</name>
        <message>
            <location filename="../../kdocs_viewer/gui/workbook_opener.py" line="+67" />
            <source>&amp;Open workbook…</source>
            <translation>打开工作簿(&amp;O)…</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Choose one of your workbooks and show its pictures (Ctrl+O)</source>
            <translation>选择你的一个工作簿并显示其中的图片（Ctrl+O）</translation>
        </message>
        <message>
            <location line="+149" />
            <source>Looking for it among your recent files…</source>
            <translation>正在你最近使用的文件中查找…</translation>
        </message>
        <message>
            <location line="+9" />
            <source>It is not among your recent files either: choose the workbook with “Open workbook…”.</source>
            <translation>在你最近使用的文件中也没有找到它：请用“打开工作簿…”选择工作簿。</translation>
        </message>
        <message>
            <location line="+9" />
            <source>Your recent files could not be listed to look for it: %1</source>
            <translation>无法列出你最近使用的文件来查找它：%1</translation>
        </message>
    </context>
    <context>
        <name>WorkbookPicker</name>
        <message>
            <location filename="../../kdocs_viewer/gui/workbook_picker.py" line="+63" />
            <source>Open workbook</source>
            <translation>打开工作簿</translation>
        </message>
        <message>
            <location line="+9" />
            <source>Search your workbooks by name (or paste a share link)</source>
            <translation>按名称搜索你的工作簿（也可粘贴分享链接）</translation>
        </message>
        <message>
            <location line="+7" />
            <source>Recent</source>
            <translation>最近使用</translation>
        </message>
        <message>
            <location line="+0" />
            <source>All spreadsheets</source>
            <translation>所有表格</translation>
        </message>
        <message>
            <location line="+13" />
            <source>Open</source>
            <translation>打开</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Refresh</source>
            <translation>刷新</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Ask KDocs for this list again</source>
            <translation>重新向金山文档获取此列表</translation>
        </message>
        <message>
            <location line="+88" />
            <source>Loading your workbooks… %1 so far</source>
            <translation>正在加载你的工作簿… 已加载 %1 个</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Loading stopped at %1 workbooks; Refresh loads them all.</source>
            <translation>已在 %1 个工作簿处停止加载；点击“刷新”可全部加载。</translation>
        </message>
        <message>
            <location line="+5" />
            <source>No workbooks in this list.</source>
            <translation>此列表中没有工作簿。</translation>
        </message>
        <message>
            <location line="+2" />
            <source>%1 of %2 workbooks match.</source>
            <translation>%2 个工作簿中有 %1 个匹配。</translation>
        </message>
        <message>
            <location line="+3" />
            <source>%1 workbooks.</source>
            <translation>共 %1 个工作簿。</translation>
        </message>
        <message>
            <location line="+13" />
            <source>KDocs refused the access token (it may have expired). Enter a new one and the list loads again.</source>
            <translation>金山文档拒绝了访问令牌（可能已过期）。请输入新的令牌，列表会重新加载。</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Could not list your workbooks: %1</source>
            <translation>无法列出你的工作簿：%1</translation>
        </message>
    </context>
    <context>
        <name>api</name>
        <message>
            <location filename="../../kdocs_viewer/core/transport_errors.py" line="+19" />
            <source>the connection timed out</source>
            <translation>连接超时</translation>
        </message>
        <message>
            <location line="+2" />
            <source>the server took too long to answer</source>
            <translation>服务器响应超时</translation>
        </message>
        <message>
            <location line="+2" />
            <source>the proxy refused the connection</source>
            <translation>代理服务器拒绝了连接</translation>
        </message>
        <message>
            <location line="+2" />
            <source>the connection broke off before the reply was complete</source>
            <translation>回复尚未完整，连接就中断了</translation>
        </message>
        <message>
            <location line="+3" />
            <source>the server's TLS certificate could not be verified</source>
            <translation>无法验证服务器的 TLS 证书</translation>
        </message>
        <message>
            <location line="+1" />
            <source>could not connect to the server</source>
            <translation>无法连接到服务器</translation>
        </message>
        <message>
            <location line="+2" />
            <source>the connection was reset</source>
            <translation>连接被重置</translation>
        </message>
        <message>
            <location line="+2" />
            <source>the reply could not be decoded</source>
            <translation>无法解码服务器的回复</translation>
        </message>
        <message>
            <location line="+1" />
            <source>a network error occurred</source>
            <translation>发生了网络错误</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/api.py" line="+265" />
            <source>The KDocs client was closed while waiting to retry.</source>
            <translation>等待重试时 KDocs 客户端已关闭。</translation>
        </message>
        <message>
            <location line="+34" />
            <source>The KDocs client was closed.</source>
            <translation>KDocs 客户端已关闭。</translation>
        </message>
        <message>
            <location line="+54" />
            <source>Could not reach the KDocs API: {reason} (after {attempts} attempts).</source>
            <translation>无法访问 KDocs API：{reason}（已尝试 {attempts} 次）。</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Could not reach the KDocs API: {reason}.</source>
            <translation>无法访问 KDocs API：{reason}。</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/replies.py" line="+131" />
            <source>a redirect, which is not followed (the token stays on the API host)</source>
            <translation>重定向（不会跟随，令牌只发送给 API 主机）</translation>
        </message>
        <message>
            <location line="+2" />
            <source>empty body</source>
            <translation>空响应</translation>
        </message>
        <message>
            <location line="+4" />
            <source>The server sent an unexpected JSON reply (HTTP {status}): {detail}</source>
            <translation>服务器返回了意外的 JSON 回复（HTTP {status}）：{detail}</translation>
        </message>
        <message>
            <location line="+2" />
            <source>The server sent a non-JSON reply (HTTP {status}): {detail}</source>
            <translation>服务器返回了非 JSON 回复（HTTP {status}）：{detail}</translation>
        </message>
        <message>
            <location line="+14" />
            <source>The access token was rejected (code 20007) — enter a new token</source>
            <translation>访问令牌被拒绝（代码 20007）—— 请输入新的令牌</translation>
        </message>
        <message>
            <location line="+3" />
            <source>The KDocs API quota is used up or calls are too frequent</source>
            <translation>KDocs API 配额已用完或调用过于频繁</translation>
        </message>
        <message>
            <location line="+3" />
            <source>The KDocs API reported an error</source>
            <translation>KDocs API 报告了错误</translation>
        </message>
        <message>
            <location line="+4" />
            <source>code {code}</source>
            <translation>代码 {code}</translation>
        </message>
        <message>
            <location line="+81" />
            <source>the server's reply did not include this picture</source>
            <translation>服务器的回复中没有这张图片</translation>
        </message>
        <message>
            <location line="+5" />
            <source>not found in this workbook / no download URL</source>
            <translation>在此工作簿中未找到 / 没有下载地址</translation>
        </message>
        <message>
            <location line="+6" />
            <source>the server sent an unusable download URL</source>
            <translation>服务器返回的下载地址不可用</translation>
        </message>
    </context>
    <context>
        <name>auth</name>
        <message>
            <location filename="../../kdocs_viewer/core/auth.py" line="+165" />
            <source>KDocs did not accept the sign-in code: it expired (a code lives 5 minutes) or was used already. Please sign in again.</source>
            <translation>金山文档不接受这个登录授权码：它已过期（授权码只有 5 分钟有效）或已被使用。请重新登录。</translation>
        </message>
        <message>
            <location line="+5" />
            <source>KDocs refused the app's credentials: check the APPID and APPKEY in the KDocs developer console.</source>
            <translation>金山文档拒绝了应用凭据：请在金山文档开发者后台核对 APPID 和 APPKEY。</translation>
        </message>
        <message>
            <location line="+4" />
            <source>Access was not allowed in the browser, so you are not signed in.</source>
            <translation>浏览器中没有允许访问，因此未登录。</translation>
        </message>
        <message>
            <location line="+3" />
            <source>KDocs sent an error instead of a sign-in code: {error}</source>
            <translation>金山文档返回了错误而不是登录授权码：{error}</translation>
        </message>
        <message>
            <location line="+3" />
            <source>This answer does not belong to the sign-in in progress (its state does not match). Start the sign-in again and use the newest browser tab.</source>
            <translation>这个回应不属于正在进行的登录（state 不匹配）。请重新开始登录，并使用最新打开的浏览器标签页。</translation>
        </message>
        <message>
            <location line="+5" />
            <source>No sign-in code found. Paste the whole address the browser was sent to after you allowed access.</source>
            <translation>没有找到登录授权码。请粘贴允许访问后浏览器跳转到的完整地址。</translation>
        </message>
        <message>
            <location line="+5" />
            <source>The browser did not come back within {duration}. Please sign in again.</source>
            <translation>浏览器在 {duration}内没有返回。请重新登录。</translation>
        </message>
        <message>
            <location line="+3" />
            <source>Signing in was cancelled.</source>
            <translation>登录已取消。</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Port {port} on 127.0.0.1 is used by another program. Close it, or choose another port and register the matching callback address in the KDocs developer console.</source>
            <translation>127.0.0.1 的端口 {port} 已被其他程序占用。请关闭该程序，或换一个端口，并在金山文档开发者后台登记相应的回调地址。</translation>
        </message>
        <message>
            <location line="+5" />
            <source>KDocs reported an error while signing in{where}: {detail}</source>
            <translation>登录时金山文档报告了错误{where}：{detail}</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Your KDocs sign-in has expired or was revoked. Please sign in again.</source>
            <translation>你的金山文档登录已过期或已被撤销。请重新登录。</translation>
        </message>
        <message>
            <location line="+3" />
            <source>You are not signed in to KDocs.</source>
            <translation>你尚未登录金山文档。</translation>
        </message>
        <message>
            <location line="+10" />
            <source>{count} minutes</source>
            <translation>{count} 分钟</translation>
        </message>
        <message>
            <location line="+1" />
            <source>{count} seconds</source>
            <translation>{count} 秒</translation>
        </message>
        <message>
            <location line="+28" />
            <source>The {name} is empty.</source>
            <translation>{name} 为空。</translation>
        </message>
        <message>
            <location line="+2" />
            <source>The {name} contains spaces.</source>
            <translation>{name} 中含有空格。</translation>
        </message>
        <message>
            <location line="+60" />
            <source>the reply holds no access token</source>
            <translation>回复中没有访问令牌</translation>
        </message>
        <message>
            <location line="+38" />
            <source>The port must be between 1 and 65535.</source>
            <translation>端口必须在 1 到 65535 之间。</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/oauth_listener.py" line="+263" />
            <source>Cannot listen on 127.0.0.1:{port}: {reason}</source>
            <translation>无法在 127.0.0.1:{port} 上监听：{reason}</translation>
        </message>
    </context>
    <context>
        <name>cells</name>
        <message>
            <location filename="../../kdocs_viewer/core/cells.py" line="+219" />
            <source>{first}, {second} or {third}</source>
            <translation>{first}、{second} 或 {third}</translation>
        </message>
        <message>
            <location line="+5" />
            <source>picture {image} has no {fields}: its download link cannot be asked for</source>
            <translation>图片 {image} 没有 {fields}：无法请求其下载链接</translation>
        </message>
        <message>
            <location line="+2" />
            <source>a picture cell without {fields}: its download link cannot be asked for</source>
            <translation>图片单元格缺少 {fields}：无法请求其下载链接</translation>
        </message>
    </context>
    <context>
        <name>download</name>
        <message>
            <location filename="../../kdocs_viewer/core/download.py" line="+127" />
            <source>download cancelled</source>
            <translation>下载已取消</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/transport_errors.py" line="+18" />
            <source>the picture server did not answer in time</source>
            <translation>图片服务器未及时响应</translation>
        </message>
        <message>
            <location line="+2" />
            <source>could not connect to the picture server</source>
            <translation>无法连接到图片服务器</translation>
        </message>
        <message>
            <location line="+2" />
            <source>the picture server closed the connection before the picture was complete</source>
            <translation>图片尚未传完，图片服务器就关闭了连接</translation>
        </message>
        <message>
            <location line="+4" />
            <source>the picture server reset the connection</source>
            <translation>图片服务器重置了连接</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/download.py" line="+219" />
            <location filename="../../kdocs_viewer/core/transport_errors.py" line="+2" />
            <source>the picture link is not a usable http(s) address</source>
            <translation>图片链接不是可用的 http(s) 地址</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/transport_errors.py" line="+1" />
            <source>network error while downloading the picture ({error})</source>
            <translation>下载图片时发生网络错误（{error}）</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/download.py" line="-85" />
            <source>the picture server sent another part of the picture than asked</source>
            <translation>图片服务器发来的不是所请求的那部分图片</translation>
        </message>
        <message>
            <location line="+34" />
            <source>the picture is too large ({size} bytes; the limit is {limit})</source>
            <translation>图片过大（{size} 字节，上限为 {limit}）</translation>
        </message>
        <message>
            <location line="+17" />
            <source>the picture is larger than the limit of {limit} bytes</source>
            <translation>图片超过了 {limit} 字节的上限</translation>
        </message>
        <message>
            <location line="+10" />
            <source>the picture arrived incomplete ({received} of {size} bytes)</source>
            <translation>图片接收不完整（{received} / {size} 字节）</translation>
        </message>
        <message>
            <location line="+21" />
            <source>picture download failed ({error})</source>
            <translation>图片下载失败（{error}）</translation>
        </message>
        <message>
            <location line="+13" />
            <source>the picture server has none of the asked bytes (HTTP 416)</source>
            <translation>图片服务器没有所请求的字节（HTTP 416）</translation>
        </message>
        <message>
            <location line="+3" />
            <source>the picture link was refused (HTTP {status}): it expired or was revoked</source>
            <translation>图片链接被拒绝（HTTP {status}）：链接已过期或已被撤销</translation>
        </message>
        <message>
            <location line="+5" />
            <source>the picture server failed (HTTP {status})</source>
            <translation>图片服务器出错（HTTP {status}）</translation>
        </message>
        <message>
            <location line="+2" />
            <source>the picture server refused the download (HTTP {status})</source>
            <translation>图片服务器拒绝了下载（HTTP {status}）</translation>
        </message>
    </context>
    <context>
        <name>files</name>
        <message>
            <location filename="../../kdocs_viewer/core/files.py" line="+314" />
            <source>This is a KDocs share link. Its id ({link_id}) names the link, not the workbook, and KDocs offers apps no way to find the workbook behind a link. Pick the workbook from your files instead.</source>
            <translation>这是金山文档的分享链接。它的 ID（{link_id}）指的是链接，而不是工作簿；金山文档没有为应用提供由链接查找工作簿的方法。请改为从你的文件中选择工作簿。</translation>
        </message>
    </context>
    <context>
        <name>formats</name>
        <message>
            <location filename="../../kdocs_viewer/core/formats.py" line="+97" />
            <source>the server sent an HTML page ({title}), not a picture</source>
            <translation>服务器返回的是 HTML 网页（{title}），不是图片</translation>
        </message>
        <message>
            <location line="+2" />
            <source>the server sent an HTML page, not a picture</source>
            <translation>服务器返回的是 HTML 网页，不是图片</translation>
        </message>
        <message>
            <location line="+1" />
            <source>the server sent an XML document, not a picture</source>
            <translation>服务器返回的是 XML 文档，不是图片</translation>
        </message>
        <message>
            <location line="+2" />
            <source>the server sent JSON data, not a picture</source>
            <translation>服务器返回的是 JSON 数据，不是图片</translation>
        </message>
        <message>
            <location line="+1" />
            <source>the server sent text, not a picture</source>
            <translation>服务器返回的是文本，不是图片</translation>
        </message>
    </context>
    <context>
        <name>oauth_listener</name>
        <message>
            <location filename="../../kdocs_viewer/core/oauth_listener.py" line="-190" />
            <source>KDocs sign-in</source>
            <translation>金山文档登录</translation>
        </message>
        <message>
            <location line="+1" />
            <source>You are signed in</source>
            <translation>登录成功</translation>
        </message>
        <message>
            <location line="+1" />
            <location line="+2" />
            <source>You can close this tab and go back to the app.</source>
            <translation>现在可以关闭此标签页并返回应用。</translation>
        </message>
        <message>
            <location line="-1" />
            <source>You are not signed in</source>
            <translation>未登录</translation>
        </message>
        <message>
            <location line="+2" />
            <source>This sign-in page is out of date</source>
            <translation>此登录页面已过期</translation>
        </message>
        <message>
            <location line="+1" />
            <source>Go back to the app and start signing in again.</source>
            <translation>请返回应用并重新开始登录。</translation>
        </message>
    </context>
    <context>
        <name>piclist</name>
        <message>
            <location filename="../../kdocs_viewer/core/models.py" line="+86" />
            <source>{where}: {message}</source>
            <translation>{where}：{message}</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/piclist.py" line="+43" />
            <source>… and {count} more</source>
            <translation>……还有 {count} 项</translation>
        </message>
        <message>
            <location line="+30" />
            <source>no pictures found</source>
            <translation>未找到图片</translation>
        </message>
        <message>
            <location line="+39" />
            <source>{name} is larger than {limit} MB: that is not a pic list.</source>
            <translation>{name} 大于 {limit} MB，不是图片列表。</translation>
        </message>
        <message>
            <location line="+3" />
            <source>{name} is not a text file.</source>
            <translation>{name} 不是文本文件。</translation>
        </message>
        <message>
            <location line="+2" />
            <source>{name} is neither UTF-8, UTF-16 nor GB18030 text.</source>
            <translation>{name} 不是 UTF-8、UTF-16 或 GB18030 编码的文本。</translation>
        </message>
        <message>
            <location line="+2" />
            <source>Could not read {name}: {reason}</source>
            <translation>无法读取 {name}：{reason}</translation>
        </message>
        <message>
            <location line="+45" />
            <location line="+42" />
            <location line="+61" />
            <source>line {line}, column {column}</source>
            <translation>第 {line} 行，第 {column} 列</translation>
        </message>
        <message>
            <location line="-102" />
            <location line="+191" />
            <location line="+58" />
            <source>line {line}</source>
            <translation>第 {line} 行</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/validation.py" line="+153" />
            <source>{field} contains an invalid character (a lone surrogate)</source>
            <translation>{field} 包含无效字符（孤立的代理项）</translation>
        </message>
        <message>
            <location line="+8" />
            <source>pic_key must be a non-empty string, got {value}</source>
            <translation>pic_key 必须是非空字符串，实际为 {value}</translation>
        </message>
        <message>
            <location line="+7" />
            <source>missing tag after pic_key {key}</source>
            <translation>pic_key {key} 后缺少 tag</translation>
        </message>
        <message>
            <location line="+2" />
            <source>tag must be a non-empty string, got {value}</source>
            <translation>tag 必须是非空字符串，实际为 {value}</translation>
        </message>
        <message>
            <location line="+12" />
            <source>missing pic_key</source>
            <translation>缺少 pic_key</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/cells.py" line="-11" />
            <location filename="../../kdocs_viewer/core/validation.py" line="+10" />
            <source>{field} must be a string, got {value}</source>
            <translation>{field} 必须是字符串，实际为 {value}</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/piclist.py" line="-233" />
            <source>duplicate of {first} (pic_key {key}, tag {tag})</source>
            <translation>与{first}重复（pic_key {key}，tag {tag}）</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/validation.py" line="-123" />
            <source>an object</source>
            <translation>一个对象</translation>
        </message>
        <message>
            <location line="+2" />
            <source>a list</source>
            <translation>一个列表</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/piclist.py" line="+26" />
            <location line="+73" />
            <source>invalid JSON: {error}</source>
            <translation>JSON 无效：{error}</translation>
        </message>
        <message>
            <location line="-71" />
            <source>invalid JSON: nested too deeply</source>
            <translation>JSON 无效：嵌套层级过深</translation>
        </message>
        <message>
            <location line="+9" />
            <source>the list</source>
            <translation>该列表</translation>
        </message>
        <message>
            <location line="+2" />
            <source>expected a JSON object or list, got {value}</source>
            <translation>应为 JSON 对象或列表，实际为 {value}</translation>
        </message>
        <message>
            <location line="+6" />
            <source>the input is an API error (code {code}) {said}</source>
            <translation>输入内容是一个 API 错误（代码 {code}）{said}</translation>
        </message>
        <message>
            <location line="+7" />
            <source>none</source>
            <translation>无</translation>
        </message>
        <message>
            <location line="+1" />
            <source>expected {example}, a list of pictures or a cells response; found keys {keys}</source>
            <translation>应为 {example}、图片列表或单元格接口的响应；实际的键为 {keys}</translation>
        </message>
        <message>
            <location line="+42" />
            <source>a number with {digits} digits is too long (at most {limit})</source>
            <translation>数字有 {digits} 位，过长（最多 {limit} 位）</translation>
        </message>
        <message>
            <location line="+33" />
            <source>the key {key} appears twice in one object (first on line {line})</source>
            <translation>同一对象中键 {key} 出现了两次（第一次在第 {line} 行）</translation>
        </message>
        <message>
            <location line="+9" />
            <location line="+17" />
            <source>{what} must be a list, got {value}</source>
            <translation>{what} 必须是列表，实际为 {value}</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/cells.py" line="+156" />
            <location filename="../../kdocs_viewer/core/piclist.py" line="-12" />
            <source>item {number}</source>
            <translation>第 {number} 项</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/piclist.py" line="+2" />
            <source>expected an object with pic_key and tag, got {value}</source>
            <translation>应为包含 pic_key 和 tag 的对象，实际为 {value}</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/cells.py" line="+6" />
            <source>cell {cell}</source>
            <translation>单元格 {cell}</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/piclist.py" line="+62" />
            <source>unknown column {column} (expected pic_key and tag, optionally {optional})</source>
            <translation>未知的列 {column}（应为 pic_key 和 tag，可选 {optional}）</translation>
        </message>
        <message>
            <location line="+5" />
            <source>unknown columns {columns} (expected pic_key and tag, optionally {optional})</source>
            <translation>未知的列 {columns}（应为 pic_key 和 tag，可选 {optional}）</translation>
        </message>
        <message>
            <location line="+6" />
            <source>the header has no pic_key and no tag column</source>
            <translation>表头中没有 pic_key 列，也没有 tag 列</translation>
        </message>
        <message>
            <location line="+2" />
            <source>the header has no pic_key column</source>
            <translation>表头中没有 pic_key 列</translation>
        </message>
        <message>
            <location line="+20" />
            <source>invalid {kind}: {error}</source>
            <translation>{kind} 无效：{error}</translation>
        </message>
        <message>
            <location line="-18" />
            <source>the header has no tag column</source>
            <translation>表头中没有 tag 列</translation>
        </message>
        <message>
            <location line="+36" />
            <source>{count} fields, expected {expected}</source>
            <translation>有 {count} 个字段，应为 {expected} 个</translation>
        </message>
        <message>
            <location line="+2" />
            <source>{count} fields, expected {expected}; add a header row to name extra columns (sheet, cell, caption)</source>
            <translation>有 {count} 个字段，应为 {expected} 个；如需额外的列（sheet、cell、caption），请添加表头行</translation>
        </message>
    </context>
    <context>
        <name>saving</name>
        <message>
            <location filename="../../kdocs_viewer/core/file_names.py" line="+68" />
            <source>the name template is empty</source>
            <translation>文件名模板为空</translation>
        </message>
        <message>
            <location line="+3" />
            <source>the name template must not contain {separator}: it names files, not folders</source>
            <translation>文件名模板不能包含 {separator}：它用于命名文件，而不是文件夹</translation>
        </message>
        <message>
            <location line="+9" />
            <source>unbalanced braces: a '}' has no matching '{' (write '}}' for a literal one)</source>
            <translation>花括号不配对：'}' 没有对应的 '{'（字面的 '}' 请写成 '}}'）</translation>
        </message>
        <message>
            <location line="+5" />
            <source>unbalanced braces: a '{' is never closed (write '{{' for a literal one)</source>
            <translation>花括号不配对：'{' 没有闭合（字面的 '{' 请写成 '{{'）</translation>
        </message>
        <message>
            <location line="+10" />
            <source>positional field {field} is not allowed; use a named field: {known}</source>
            <translation>不允许使用位置字段 {field}；请使用命名字段：{known}</translation>
        </message>
        <message>
            <location line="+5" />
            <source>{field}: attribute or index access is not allowed; use a plain field: {known}</source>
            <translation>{field}：不允许访问属性或索引；请使用普通字段：{known}</translation>
        </message>
        <message>
            <location line="+5" />
            <source>unknown field {field}; the fields are {known}</source>
            <translation>未知字段 {field}；可用字段为 {known}</translation>
        </message>
        <message>
            <location line="+3" />
            <source>{field}: conversions and nested fields are not allowed</source>
            <translation>{field}：不允许使用转换或嵌套字段</translation>
        </message>
        <message>
            <location line="+5" />
            <source>{field}: bad format spec ({error})</source>
            <translation>{field}：格式说明无效（{error}）</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/saving.py" line="+122" />
            <source>(link hidden)</source>
            <translation>（链接已隐藏）</translation>
        </message>
        <message>
            <location line="+58" />
            <source>cancelled</source>
            <translation>已取消</translation>
        </message>
        <message>
            <location line="+13" />
            <source>download failed: {detail}</source>
            <translation>下载失败：{detail}</translation>
        </message>
        <message>
            <location line="+5" />
            <source>the picture is empty (0 bytes)</source>
            <translation>图片为空（0 字节）</translation>
        </message>
        <message>
            <location line="+6" />
            <source>the cached copy kept changing while it was being saved</source>
            <translation>保存期间缓存的副本一再变化</translation>
        </message>
        <message>
            <location line="+1" />
            <location line="+5" />
            <source>could not save: {detail}</source>
            <translation>无法保存：{detail}</translation>
        </message>
        <message>
            <location line="+5" />
            <source>already saved as {name}</source>
            <translation>已保存为 {name}</translation>
        </message>
        <message>
            <location line="+2" />
            <source>{name} already exists</source>
            <translation>{name} 已存在</translation>
        </message>
    </context>
    <context>
        <name>session</name>
        <message>
            <location filename="../../kdocs_viewer/core/single_flight.py" line="+72" />
            <source>cancelled</source>
            <translation>已取消</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/lease_batcher.py" line="+49" />
            <location filename="../../kdocs_viewer/core/single_flight.py" line="+2" />
            <source>the picture session was closed</source>
            <translation>图片会话已关闭</translation>
        </message>
        <message>
            <location line="+104" />
            <source>the server's reply did not include this picture</source>
            <translation>服务器的回复中没有这张图片</translation>
        </message>
        <message>
            <location filename="../../kdocs_viewer/core/session.py" line="+536" />
            <source>the picture server refused the download link (HTTP {status}) even after a fresh link was obtained: the picture may have been removed or access revoked</source>
            <translation>即使已获取新链接，图片服务器仍拒绝下载（HTTP {status}）：图片可能已被删除或访问权限已被撤销</translation>
        </message>
    </context>
    <context>
        <name>validation</name>
        <message>
            <location filename="../../kdocs_viewer/core/validation.py" line="+27" />
            <source>{field} is empty</source>
            <translation>{field} 为空</translation>
        </message>
        <message>
            <location line="+1" />
            <source>{field} must be a string</source>
            <translation>{field} 必须是字符串</translation>
        </message>
        <message>
            <location line="+2" />
            <source>{field} is {length} characters long (at most {limit})</source>
            <translation>{field} 长 {length} 个字符（最多 {limit} 个）</translation>
        </message>
        <message>
            <location line="+4" />
            <source>{field} {value} contains whitespace</source>
            <translation>{field} {value} 含有空白字符</translation>
        </message>
        <message>
            <location line="+4" />
            <source>{field} {value} contains a control or invisible character</source>
            <translation>{field} {value} 含有控制字符或不可见字符</translation>
        </message>
        <message>
            <location line="+4" />
            <source>{field} cannot be {value}</source>
            <translation>{field} 不能是 {value}</translation>
        </message>
        <message>
            <location line="+4" />
            <source>{field} {value} contains a slash (/ or \)</source>
            <translation>{field} {value} 含有斜杠（/ 或 \）</translation>
        </message>
        <message>
            <location line="+8" />
            <source>the file token</source>
            <translation>文件 ID</translation>
        </message>
        <message>
            <location line="+100" />
            <source>the API base URL {problem}</source>
            <translation>API 基础地址{problem}</translation>
        </message>
        <message>
            <location line="+15" />
            <source>is empty</source>
            <translation>为空</translation>
        </message>
        <message>
            <location line="+2" />
            <source>contains spaces or control characters</source>
            <translation>含有空格或控制字符</translation>
        </message>
        <message>
            <location line="+3" />
            <source>has no scheme: write it as https://host</source>
            <translation>缺少协议：请写成 https://主机名</translation>
        </message>
        <message>
            <location line="+3" />
            <source>must start with https:// (or http:// to this machine), not {scheme}:</source>
            <translation>必须以 https:// 开头（连接本机时可用 http://），而不是 {scheme}:</translation>
        </message>
        <message>
            <location line="+5" />
            <source>must not contain a query (?…)</source>
            <translation>不能包含查询参数（?…）</translation>
        </message>
        <message>
            <location line="+2" />
            <source>must not contain a fragment (#…)</source>
            <translation>不能包含片段（#…）</translation>
        </message>
        <message>
            <location line="+5" />
            <location line="+10" />
            <source>has an invalid IPv6 address</source>
            <translation>的 IPv6 地址无效</translation>
        </message>
        <message>
            <location line="-8" />
            <source>must not contain user credentials (user:password@)</source>
            <translation>不能包含用户凭据（user:password@）</translation>
        </message>
        <message>
            <location line="+2" />
            <source>names no host</source>
            <translation>缺少主机名</translation>
        </message>
        <message>
            <location line="+8" />
            <location line="+15" />
            <source>has an invalid host name</source>
            <translation>的主机名无效</translation>
        </message>
        <message>
            <location line="-9" />
            <source>has an invalid port {port}</source>
            <translation>的端口 {port} 无效</translation>
        </message>
        <message>
            <location line="+3" />
            <source>has port {port}, outside 1–65535</source>
            <translation>的端口 {port} 超出 1–65535 的范围</translation>
        </message>
        <message>
            <location line="+8" />
            <source>Refusing to send the access token over plain http to {host}: use https:// (plain http is only allowed to this machine, e.g. the stand-in server).</source>
            <translation>拒绝通过明文 http 将访问令牌发送到 {host}：请使用 https://（明文 http 只允许连接本机，例如本地模拟服务器）。</translation>
        </message>
    </context>
</TS>
