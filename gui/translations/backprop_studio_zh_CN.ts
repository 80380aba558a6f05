<?xml version='1.0' encoding='utf-8'?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ClassCheck</name>
    <message>
        <source>Check a Class — %1</source>
        <translation>检查全班作业 — %1</translation>
    </message>
    <message>
        <source>Checking the submissions in %1…</source>
        <translation>正在检查 %1 中的作业…</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Keep what is checked; a later check does only the rest</source>
        <translation>保留已检查的结果；之后再检查时只检查剩下的</translation>
    </message>
    <message>
        <source>Only the students who made this mistake</source>
        <translation>只显示犯了这个错误的学生</translation>
    </message>
    <message>
        <source>every student</source>
        <translation>所有学生</translation>
    </message>
    <message>
        <source>Open Gradebook</source>
        <translation>打开成绩册</translation>
    </message>
    <message>
        <source>The folder with the CSV, the JSON, each student's page and results.json</source>
        <translation>包含 CSV、JSON、每个学生的页面和 results.json 的文件夹</translation>
    </message>
    <message>
        <source>Open Student's Page</source>
        <translation>打开学生页面</translation>
    </message>
    <message>
        <source>The selected student's page: verdicts, worked examples and their code</source>
        <translation>所选学生的页面：结论、算例和他的代码</translation>
    </message>
    <message>
        <source>Click a student: their diagnoses and the check's report</source>
        <translation>点击一个学生：查看他的诊断和检查报告</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Checking a class</source>
        <translation>正在检查全班作业</translation>
    </message>
    <message>
        <source>checking a class</source>
        <translation>正在检查全班作业</translation>
    </message>
    <message>
        <source>%1 of %2 checked (last: %3) · about %4 left</source>
        <translation>已检查 %1 / %2（最近：%3）· 大约还需 %4</translation>
    </message>
    <message>
        <source>The class could not be checked: %1</source>
        <translation>无法检查这个班级：%1</translation>
    </message>
    <message>
        <source>student</source>
        <translation>学生</translation>
    </message>
    <message>
        <source>score</source>
        <translation>得分</translation>
    </message>
    <message>
        <source>whole MLP</source>
        <translation>整个 MLP</translation>
    </message>
    <message>
        <source>mistakes</source>
        <translation>错误数</translation>
    </message>
    <message>
        <source>%1 × %2</source>
        <translation>%1 × %2</translation>
    </message>
    <message>
        <source>%1 students: %2 without a mistake, %3 different mistakes. The gradebook is in %4.</source>
        <translation>%1 名学生：%2 名没有错误，共 %3 种不同的错误。成绩册在 %4。</translation>
    </message>
    <message>
        <source>%1 — %2 (%3)</source>
        <translation>%1 — %2（%3）</translation>
    </message>
</context>
<context>
    <name>ClassifyPanel</name>
    <message>
        <source>Drop image files or a folder anywhere on the window, or use Add Images… (Ctrl+I). A folder whose subfolders are class names is evaluated as a labelled set.</source>
        <translation>把图片文件或文件夹拖到窗口任意位置，或使用“添加图片…”（Ctrl+I）。子文件夹名为类别名的文件夹会作为带标签的数据集进行评估。</translation>
    </message>
    <message>
        <source>Image</source>
        <translation>图片</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Prediction</source>
        <translation>预测</translation>
    </message>
    <message>
        <source>Top classes</source>
        <translation>最可能的类别</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Add Images…</source>
        <translation>添加图片…</translation>
    </message>
    <message>
        <source>Choose image files to classify with the open model (Ctrl+I)</source>
        <translation>选择图片文件，用当前打开的模型分类（Ctrl+I）</translation>
    </message>
    <message>
        <source>Results of the previous model were cleared: classify again with this one.</source>
        <translation>上一个模型的结果已清除：请用当前模型重新分类。</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt;: %2 labelled images, accuracy &lt;b&gt;%3%&lt;/b&gt;</source>
        <translation>&lt;b&gt;%1&lt;/b&gt;：%2 张带标签的图片，准确率 &lt;b&gt;%3%&lt;/b&gt;</translation>
    </message>
</context>
<context>
    <name>Common</name>
    <message>
        <source>epoch</source>
        <translation>轮次</translation>
    </message>
</context>
<context>
    <name>ConfusionMatrix</name>
    <message>
        <source>Rows: true class · columns: predicted class · click a cell to see its images</source>
        <translation>行：真实类别 · 列：预测类别 · 点击单元格查看其中的图片</translation>
    </message>
    <message>
        <source>true %1 → predicted %2: %3</source>
        <translation>真实 %1 → 预测 %2：%3</translation>
    </message>
</context>
<context>
    <name>DatasetPanel</name>
    <message>
        <source>Training samples, each with its label</source>
        <translation>训练样本（各附标签）</translation>
    </message>
    <message>
        <source>Class balance</source>
        <translation>类别分布</translation>
    </message>
    <message>
        <source>images</source>
        <translation>张图片</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt; (%2) · %3%4</source>
        <translation>&lt;b&gt;%1&lt;/b&gt;（%2）· %3%4</translation>
    </message>
    <message>
        <source>train</source>
        <translation>训练集</translation>
    </message>
    <message>
        <source>val</source>
        <translation>验证集</translation>
    </message>
    <message>
        <source>test</source>
        <translation>测试集</translation>
    </message>
</context>
<context>
    <name>DistributionPanel</name>
    <message>
        <source>percentiles over training (0–100, 10–90, 25–75, median)</source>
        <translation>训练过程中的百分位数（0–100、10–90、25–75、中位数）</translation>
    </message>
    <message>
        <source>value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>histogram</source>
        <translation>直方图</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>of</source>
        <translation>的</translation>
    </message>
    <message>
        <source>Histogram at</source>
        <translation>直方图位于</translation>
    </message>
    <message>
        <source>median</source>
        <translation>中位数</translation>
    </message>
    <message>
        <source>epoch %1</source>
        <translation>第 %1 轮</translation>
    </message>
</context>
<context>
    <name>EmbeddingPanel</name>
    <message>
        <source>Labels</source>
        <translation>标签</translation>
    </message>
    <message>
        <source>Draw each point as its class label (as the letters course's t-SNE figure)</source>
        <translation>把每个点画成它的类别标签（同字母课程报告中的 t-SNE 图）</translation>
    </message>
    <message>
        <source>Compute</source>
        <translation>计算</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>The map as PNG or SVG, or its points as CSV (x, y, label, predicted)</source>
        <translation>将图导出为 PNG 或 SVG，或将点导出为 CSV（x, y, 标签, 预测）</translation>
    </message>
    <message>
        <source>Split</source>
        <translation>数据划分</translation>
    </message>
    <message>
        <source>of</source>
        <translation>的</translation>
    </message>
    <message>
        <source>The image under the mouse</source>
        <translation>鼠标下的图片</translation>
    </message>
    <message>
        <source>Select Region</source>
        <translation>选择区域</translation>
    </message>
    <message>
        <source>A region on the map (drag its corners; right-click an edge to add one)</source>
        <translation>图上的一个区域（拖动角点；右键单击边可添加角点）</translation>
    </message>
    <message>
        <source>Open a model and a dataset, then Compute. Points are coloured by class; ringed ones are misclassified.</source>
        <translation>先打开模型和数据集，再点“计算”。点按类别着色；带圈的是分类错误的样本。</translation>
    </message>
    <message>
        <source>Choose a split and a layer, then Compute: PCA at once, t-SNE in the background. Points are coloured by class; ringed ones are misclassified.</source>
        <translation>选择数据划分和层，然后点“计算”：PCA 立即完成，t-SNE 在后台进行。点按类别着色；带圈的是分错的样本。</translation>
    </message>
    <message>
        <source>%1 images in the region (double-click one to show it in the gallery)</source>
        <translation>区域内有 %1 张图片（双击一张可在图库中显示）</translation>
    </message>
    <message>
        <source>Open a dataset and train or open a model first.</source>
        <translation>请先打开数据集，并训练或打开一个模型。</translation>
    </message>
    <message>
        <source>The %1 split is empty.</source>
        <translation>%1 划分是空的。</translation>
    </message>
    <message>
        <source>t-SNE cancelled.</source>
        <translation>t-SNE 已取消。</translation>
    </message>
    <message>
        <source>t-SNE failed: %1</source>
        <translation>t-SNE 失败：%1</translation>
    </message>
    <message>
        <source>%1 %2 images, %3, %4; %5 misclassified (ringed). Hover for the label, click to show it.</source>
        <translation>%1 张 %2 图片，%3，%4；%5 张分错（带圈）。鼠标悬停显示标签，点击显示图片。</translation>
    </message>
    <message>
        <source>Compute a map first.</source>
        <translation>请先计算嵌入图。</translation>
    </message>
    <message>
        <source>Export Map</source>
        <translation>导出嵌入图</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已保存 %1</translation>
    </message>
</context>
<context>
    <name>ExplainPanel</name>
    <message>
        <source>Which image of the split</source>
        <translation>该划分中的第几张图片</translation>
    </message>
    <message>
        <source>Explain</source>
        <translation>逐步解释</translation>
    </message>
    <message>
        <source>Image File…</source>
        <translation>图片文件…</translation>
    </message>
    <message>
        <source>Explain an image file (or drop one on the window while this tab is shown)</source>
        <translation>解释一个图片文件（或在显示本页时把图片拖到窗口上）</translation>
    </message>
    <message>
        <source>◀ Step</source>
        <translation>◀ 上一步</translation>
    </message>
    <message>
        <source>Step ▶</source>
        <translation>下一步 ▶</translation>
    </message>
    <message>
        <source>Apply This Update</source>
        <translation>应用这次更新</translation>
    </message>
    <message>
        <source>One SGD step (the run's learning rate) on this image alone: its loss before and after</source>
        <translation>只用这张图片做一步 SGD（使用本次运行的学习率）：显示更新前后的损失</translation>
    </message>
    <message>
        <source>Image</source>
        <translation>图片</translation>
    </message>
    <message>
        <source>Pick an image and press Explain (or Explain in the Predictions tab).</source>
        <translation>选一张图片并点“逐步解释”（或在“预测”页中点“解释这张图片”）。</translation>
    </message>
    <message>
        <source>Open a dataset and train or open a model first.</source>
        <translation>请先打开数据集，并训练或打开一个模型。</translation>
    </message>
    <message>
        <source>The %1 split is empty.</source>
        <translation>%1 划分是空的。</translation>
    </message>
    <message>
        <source>Explain an Image</source>
        <translation>解释一张图片</translation>
    </message>
    <message>
        <source>Open or train a model first.</source>
        <translation>请先打开或训练一个模型。</translation>
    </message>
    <message>
        <source>from its folder's name</source>
        <translation>来自其文件夹名</translation>
    </message>
    <message>
        <source>the predicted class: its folder names no class</source>
        <translation>预测的类别：其文件夹名不是任何类别</translation>
    </message>
    <message>
        <source>%1 (label %2): </source>
        <translation>%1（标签%2）：</translation>
    </message>
    <message>
        <source>label %1, predicted %2 (q = %3); loss −log q_y = %4. </source>
        <translation>标签 %1，预测 %2（q = %3）；损失 −log q_y = %4。</translation>
    </message>
    <message>
        <source>Every backward step equals both engines and finite differences ✓</source>
        <translation>每一步反向传播都与两个引擎和有限差分一致 ✓</translation>
    </message>
    <message>
        <source>Some steps differ ✗</source>
        <translation>有些步骤不一致 ✗</translation>
    </message>
    <message>
        <source>&lt;span style='font-size:15pt'&gt;%1&lt;/span&gt;&lt;br&gt;shape %2, ‖·‖ = %3%4%5</source>
        <translation>&lt;span style='font-size:15pt'&gt;%1&lt;/span&gt;&lt;br&gt;形状 %2，‖·‖ = %3%4%5</translation>
    </message>
    <message>
        <source>class %1: %2</source>
        <translation>类别 %1：%2</translation>
    </message>
    <message>
        <source>unit %1: %2</source>
        <translation>单元 %1：%2</translation>
    </message>
    <message>
        <source>row %1, column %2: %3</source>
        <translation>第 %1 行，第 %2 列：%3</translation>
    </message>
    <message>
        <source>One SGD step (lr %1) on this image alone: its loss %2 → %3</source>
        <translation>只用这张图片做一步 SGD（学习率 %1）：它的损失 %2 → %3</translation>
    </message>
</context>
<context>
    <name>Figures</name>
    <message>
        <source>epoch</source>
        <translation>轮次</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>validation accuracy</source>
        <translation>验证集准确率</translation>
    </message>
    <message>
        <source>accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>loss (log scale)</source>
        <translation>损失（对数刻度）</translation>
    </message>
    <message>
        <source>test accuracy</source>
        <translation>测试集准确率</translation>
    </message>
    <message>
        <source>mean ± std over %1 seed</source>
        <translation>%1 个随机种子的均值 ± 标准差</translation>
    </message>
    <message>
        <source>mean ± std over %1 seeds</source>
        <translation>%1 个随机种子的均值 ± 标准差</translation>
    </message>
    <message>
        <source>true class</source>
        <translation>真实类别</translation>
    </message>
    <message>
        <source>predicted class</source>
        <translation>预测类别</translation>
    </message>
    <message>
        <source>training</source>
        <translation>训练集</translation>
    </message>
    <message>
        <source>validation</source>
        <translation>验证集</translation>
    </message>
    <message>
        <source>test</source>
        <translation>测试集</translation>
    </message>
    <message>
        <source>%1 accuracy %2 (n = %3)</source>
        <translation>%1准确率 %2（n = %3）</translation>
    </message>
</context>
<context>
    <name>FunctionsView</name>
    <message>
        <source>op</source>
        <translation>算子</translation>
    </message>
    <message>
        <source>role</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>forward</source>
        <translation>前向</translation>
    </message>
    <message>
        <source>gradients (worst relative error)</source>
        <translation>梯度（最大相对误差）</translation>
    </message>
    <message>
        <source>where</source>
        <translation>位置</translation>
    </message>
    <message>
        <source>Load…</source>
        <translation>加载…</translation>
    </message>
    <message>
        <source>Load your modules (a course's network.py, losses.py, activations.py, …)</source>
        <translation>加载你的模块（课程的 network.py、losses.py、activations.py 等）</translation>
    </message>
    <message>
        <source>Re-check</source>
        <translation>重新检查</translation>
    </message>
    <message>
        <source>Import the files again and check every op (F6)</source>
        <translation>重新导入文件并检查每个算子（F6）</translation>
    </message>
    <message>
        <source>Re-check on save</source>
        <translation>保存时自动检查</translation>
    </message>
    <message>
        <source>Race the Reference</source>
        <translation>与参考实现对比训练</translation>
    </message>
    <message>
        <source>Train your network and the reference from the same weights on the same batches</source>
        <translation>用相同的初始权重和相同的批次，同时训练你的网络和参考实现</translation>
    </message>
    <message>
        <source>Train with These</source>
        <translation>用这些函数训练</translation>
    </message>
    <message>
        <source>Use your functions as the engine of the next training run</source>
        <translation>下一次训练使用你的函数作为引擎</translation>
    </message>
    <message>
        <source>No functions loaded: File ▸ Load Your Functions… or drop a .py file here</source>
        <translation>尚未加载函数：文件 ▸ 加载你的函数…，或把 .py 文件拖到这里</translation>
    </message>
    <message>
        <source>What the check found, in words, with the evidence</source>
        <translation>检查发现了什么：文字说明及其依据</translation>
    </message>
    <message>
        <source>race: loss per step (reference solid, yours dashed)</source>
        <translation>对比训练：每步损失（实线：参考实现，虚线：你的）</translation>
    </message>
    <message>
        <source>|your loss − reference loss|</source>
        <translation>|你的损失 − 参考损失|</translation>
    </message>
    <message>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <source>Race the Reference trains your functions and the studio's side by side from the same weights; their losses per step appear here.</source>
        <translation>“与参考实现赛跑”会从相同的权重出发，并排训练你的函数和工作室自带的实现；它们每一步的损失会显示在这里。</translation>
    </message>
    <message>
        <source>Your functions: %1</source>
        <translation>你的函数：%1</translation>
    </message>
    <message>
        <source>Checking in a worker process…</source>
        <translation>正在工作进程中检查…</translation>
    </message>
    <message>
        <source>Your code did not finish: see below</source>
        <translation>你的代码没有运行完：见下方</translation>
    </message>
    <message>
        <source>No ops found: classes that subclass torch.autograd.Function or have forward and backward</source>
        <translation>没有找到算子：需要继承 torch.autograd.Function 或带有 forward 和 backward 方法的类</translation>
    </message>
    <message>
        <source>whole MLP (%1) vs finite differences: %2</source>
        <translation>整个 MLP（%1）与有限差分对比：%2</translation>
    </message>
    <message>
        <source>whole MLP not checked: %1</source>
        <translation>整个 MLP 未检查：%1</translation>
    </message>
    <message>
        <source>%1 ops, %2 failing</source>
        <translation>%1 个算子，%2 个未通过</translation>
    </message>
    <message>
        <source>%1 ops, all pass</source>
        <translation>%1 个算子，全部通过</translation>
    </message>
    <message>
        <source>, %1 with warnings</source>
        <translation>，%1 个有警告</translation>
    </message>
    <message>
        <source>summed</source>
        <translation>求和</translation>
    </message>
    <message>
        <source>batch-mean</source>
        <translation>批平均</translation>
    </message>
    <message>
        <source>%1; %2 · loss gradient expected: of the %3 loss (the panel's)</source>
        <translation>%1；%2 · 期望的损失梯度：%3损失的梯度（按面板设置）</translation>
    </message>
    <message>
        <source>Double-click to open this code in your editor ($VISUAL or $EDITOR)</source>
        <translation>双击可在你的编辑器中打开这段代码（$VISUAL 或 $EDITOR）</translation>
    </message>
    <message>
        <source>found by %1; choose another role to correct it</source>
        <translation>由%1识别；可选择其他角色来更正</translation>
    </message>
    <message>
        <source>Could not open %1: %2</source>
        <translation>无法打开 %1：%2</translation>
    </message>
    <message>
        <source>Opened %1 at line %2 in %3</source>
        <translation>已在 %3 中打开 %1 的第 %2 行</translation>
    </message>
    <message>
        <source>%1 (%2, role %3, found by %4) — %5:%6</source>
        <translation>%1（%2，角色 %3，识别方式：%4）— %5:%6</translation>
    </message>
    <message>
        <source>✓ forward and every gradient match the reference at batch sizes 1, 8 and 37 (float64)</source>
        <translation>✓ 在批大小 1、8、37 时，前向和每个梯度都与参考实现一致（float64）</translation>
    </message>
    <message>
        <source>  batch %1: forward %2  gradients %3</source>
        <translation>  批大小 %1：前向 %2  梯度 %3</translation>
    </message>
    <message>
        <source>Whole MLP (%1) vs finite differences: %2 %3</source>
        <translation>整个 MLP（%1）与有限差分对比：%2 %3</translation>
    </message>
    <message>
        <source>Load your functions and open a dataset first.</source>
        <translation>请先加载你的函数并打开数据集。</translation>
    </message>
    <message>
        <source>Racing for %1 steps in a worker process…</source>
        <translation>正在工作进程中对比训练 %1 步…</translation>
    </message>
    <message>
        <source>reference</source>
        <translation>参考实现</translation>
    </message>
    <message>
        <source>yours</source>
        <translation>你的</translation>
    </message>
    <message>
        <source>they part here: step %1 %2</source>
        <translation>二者在此分开：第 %1 步 %2</translation>
    </message>
</context>
<context>
    <name>GradcheckDialog</name>
    <message>
        <source>Gradient Check</source>
        <translation>梯度检查</translation>
    </message>
    <message>
        <source>Checking every hand-written backward against numerical differentiation…</source>
        <translation>正在用数值微分检查每个手写的反向传播…</translation>
    </message>
    <message>
        <source>Engine</source>
        <translation>引擎</translation>
    </message>
    <message>
        <source>Operation</source>
        <translation>运算</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Max |error|</source>
        <translation>最大 |误差|</translation>
    </message>
    <message numerus="yes">
        <source>This checks the studio's own torch Functions and NumPy operators, not the %n file(s) of yours that are loaded; yours are checked in the Functions tab.</source>
        <translation>
            <numerusform>这里检查的是本工具自带的 torch Function 和 NumPy 算子，而不是你已加载的 %n 个文件；你的函数请在“函数”页检查。</numerusform>
        </translation>
    </message>
    <message>
        <source>Check &amp;Yours</source>
        <translation>检查你的函数(&amp;Y)</translation>
    </message>
    <message>
        <source>Check your loaded functions again, in the Functions tab</source>
        <translation>在“函数”页重新检查你已加载的函数</translation>
    </message>
    <message>
        <source>%1 of %2 checks passed.</source>
        <translation>%2 项检查中通过 %1 项。</translation>
    </message>
    <message>
        <source>%1 FAILED — hover a row for details.</source>
        <translation>%1 项未通过——将鼠标悬停在行上查看详情。</translation>
    </message>
</context>
<context>
    <name>HealthPanel</name>
    <message>
        <source>gradient norm ‖∂L/∂W‖</source>
        <translation>梯度范数 ‖∂L/∂W‖</translation>
    </message>
    <message>
        <source>update ratio ‖ΔW‖ / ‖W‖ (band: ~1e-3)</source>
        <translation>更新比例 ‖ΔW‖ / ‖W‖（色带：约 1e-3）</translation>
    </message>
    <message>
        <source>ratio</source>
        <translation>比例</translation>
    </message>
    <message>
        <source>dead ReLUs / saturated units</source>
        <translation>死亡的 ReLU / 饱和的单元</translation>
    </message>
    <message>
        <source>fraction</source>
        <translation>占比</translation>
    </message>
    <message>
        <source>activations: mean ± std</source>
        <translation>激活值：均值 ± 标准差</translation>
    </message>
    <message>
        <source>value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>Train a model: its layers' health is collected every few steps (about 2 % of the time).</source>
        <translation>训练一个模型：每隔几步收集一次各层的健康状况（约占 2% 的时间）。</translation>
    </message>
    <message>
        <source>dead</source>
        <translation>死亡</translation>
    </message>
    <message>
        <source>saturated</source>
        <translation>饱和</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt; (from the run store): </source>
        <translation>&lt;b&gt;%1&lt;/b&gt;（来自运行记录库）：</translation>
    </message>
    <message>
        <source>%1 collections on a fixed probe batch, the last at step %2 (epoch %3).</source>
        <translation>在固定的探测批次上采集了 %1 次，最近一次在第 %2 步（第 %3 轮）。</translation>
    </message>
</context>
<context>
    <name>HyperparameterPanel</name>
    <message>
        <source>Start from a preset: every hyperparameter below is set from it</source>
        <translation>从预设开始：下面的每个超参数都按它设置</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>+ Add layer</source>
        <translation>+ 添加一层</translation>
    </message>
    <message>
        <source>Add a hidden layer</source>
        <translation>添加一个隐藏层</translation>
    </message>
    <message>
        <source>Hidden layers</source>
        <translation>隐藏层</translation>
    </message>
    <message>
        <source>Activation</source>
        <translation>激活函数</translation>
    </message>
    <message>
        <source>Optimizer</source>
        <translation>优化器</translation>
    </message>
    <message>
        <source>Learning rate on a log scale (10⁻⁵ … 1)</source>
        <translation>对数刻度的学习率（10⁻⁵ … 1）</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>Momentum</source>
        <translation>动量</translation>
    </message>
    <message>
        <source>Weight decay</source>
        <translation>权重衰减</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>Epochs</source>
        <translation>训练轮数</translation>
    </message>
    <message>
        <source> epoch(s)</source>
        <translation> 轮</translation>
    </message>
    <message>
        <source>Validate every</source>
        <translation>验证间隔</translation>
    </message>
    <message>
        <source>Engine</source>
        <translation>引擎</translation>
    </message>
    <message>
        <source>he: He-normal into relu, Xavier elsewhere · xavier · normal: N(0, 1) as the letters course's torch.randn · uniform: U(±1/√fan_in), nn.Linear's default (the MNIST course's)</source>
        <translation>he：relu 前用 He 正态初始化，其余用 Xavier · xavier · normal：N(0, 1)，同字母课程的 torch.randn · uniform：U(±1/√fan_in)，nn.Linear 的默认值（MNIST 课程所用）</translation>
    </message>
    <message>
        <source>Initialisation</source>
        <translation>初始化</translation>
    </message>
    <message>
        <source>How pixels become inputs · minus-one-one: (x/255 − 0.5)/0.5, the letters course's · zero-one: x/255 · standardize: (x/255 − mean)/std, the MNIST course's (0.1307, 0.3081), or the training split's own</source>
        <translation>像素如何变成输入 · minus-one-one：(x/255 − 0.5)/0.5，字母课程的做法 · zero-one：x/255 · standardize：(x/255 − 均值)/标准差，MNIST 课程用 (0.1307, 0.3081)，或用训练集自身的统计量</translation>
    </message>
    <message>
        <source>Input scaling</source>
        <translation>输入缩放</translation>
    </message>
    <message>
        <source>biases</source>
        <translation>偏置</translation>
    </message>
    <message>
        <source>Unchecked: a bias-free MLP (the MNIST course's network)</source>
        <translation>不勾选：无偏置的 MLP（MNIST 课程的网络）</translation>
    </message>
    <message>
        <source>Layers have</source>
        <translation>各层带有</translation>
    </message>
    <message>
        <source>float32 · float64: as the MNIST course's NumPy loop computes (its lr 0.5 run rides out loss spikes that overflow float32); about twice as slow</source>
        <translation>float32 · float64：与 MNIST 课程的 NumPy 循环相同的精度（其学习率 0.5 的训练能挺过使 float32 溢出的损失尖峰）；约慢一倍</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>数值精度</translation>
    </message>
    <message>
        <source>mean: gradient of the batch-mean loss · sum: of the summed loss (the letters course's backward omits 1/N)</source>
        <translation>mean：批平均损失的梯度 · sum：求和损失的梯度（字母课程的 backward 省略了 1/N）</translation>
    </message>
    <message>
        <source>Loss gradient</source>
        <translation>损失梯度</translation>
    </message>
    <message>
        <source>Initial weights and batch order</source>
        <translation>初始权重和批次顺序</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Validation fraction for data without a validation split of its own (0: none)</source>
        <translation>数据本身没有验证集时划出的验证集比例（0：不划分）</translation>
    </message>
    <message>
        <source>Validation split</source>
        <translation>验证集比例</translation>
    </message>
    <message>
        <source>Seed of the train/val/test split for data without a fixed split; kept with the model so its test images are never training images</source>
        <translation>没有固定划分的数据用来划分训练/验证/测试集的种子；随模型保存，保证测试图片永远不会成为训练图片</translation>
    </message>
    <message>
        <source>Split seed</source>
        <translation>划分种子</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Remove this layer</source>
        <translation>删除这一层</translation>
    </message>
    <message>
        <source>must be 1 to %1 units</source>
        <translation>必须是 1 到 %1 个单元</translation>
    </message>
    <message>
        <source>Hidden layer %1: %2 units — a layer has 1 to %3 units.</source>
        <translation>隐藏层 %1：%2 个单元——每层应有 1 到 %3 个单元。</translation>
    </message>
    <message>
        <source>%1 comes with its own train/validation/test split: nothing to choose</source>
        <translation>%1 自带训练/验证/测试划分：无需选择</translation>
    </message>
    <message>
        <source>This dataset</source>
        <translation>这个数据集</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt;, %2&lt;br&gt;%3 parameters</source>
        <translation>&lt;b&gt;%1&lt;/b&gt;，%2&lt;br&gt;%3 个参数</translation>
    </message>
</context>
<context>
    <name>I18n</name>
    <message>
        <source>System language</source>
        <translation>跟随系统</translation>
    </message>
</context>
<context>
    <name>InternalsView</name>
    <message>
        <source>Health</source>
        <translation>健康状况</translation>
    </message>
    <message>
        <source>Distributions</source>
        <translation>分布</translation>
    </message>
    <message>
        <source>Explain</source>
        <translation>逐步解释</translation>
    </message>
    <message>
        <source>Embedding</source>
        <translation>嵌入图</translation>
    </message>
    <message>
        <source>Units</source>
        <translation>神经元</translation>
    </message>
    <message>
        <source>Network</source>
        <translation>网络结构</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>&lt;b&gt;Hyperparameters&lt;/b&gt;</source>
        <translation>&lt;b&gt;超参数&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Predictions</source>
        <translation>预测</translation>
    </message>
    <message>
        <source>Classify</source>
        <translation>分类</translation>
    </message>
    <message>
        <source>Dataset</source>
        <translation>数据集</translation>
    </message>
    <message>
        <source>Weights</source>
        <translation>权重</translation>
    </message>
    <message>
        <source>Runs</source>
        <translation>运行记录</translation>
    </message>
    <message>
        <source>Sweep</source>
        <translation>超参数搜索</translation>
    </message>
    <message>
        <source>Functions</source>
        <translation>你的函数</translation>
    </message>
    <message>
        <source>Internals</source>
        <translation>网络内部</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop opening this dataset; the one open before stays</source>
        <translation>停止打开这个数据集；之前打开的数据集保持不变</translation>
    </message>
    <message>
        <source>An autosaved best-validation model from %1 can be opened: File ▸ Recover Autosaved Model</source>
        <translation>可以打开 %1 自动保存的最佳验证模型：文件 ▸ 恢复自动保存的模型</translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation>继续(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>暂停(&amp;P)</translation>
    </message>
    <message>
        <source>engine: %1 · device: %2</source>
        <translation>引擎：%1 · 设备：%2</translation>
    </message>
    <message>
        <source>Fix the highlighted hyperparameters first</source>
        <translation>请先修正标红的超参数</translation>
    </message>
    <message>
        <source>%1: %2/%3/%4 train/val/test · %5 classes · %6×%7</source>
        <translation>%1：训练/验证/测试 %2/%3/%4 · %5 个类别 · %6×%7</translation>
    </message>
    <message>
        <source>Open Dataset Folder</source>
        <translation>打开数据集文件夹</translation>
    </message>
    <message>
        <source>Open Checkpoint</source>
        <translation>打开检查点</translation>
    </message>
    <message>
        <source>Stop the training run before opening a checkpoint.</source>
        <translation>请先停止训练，再打开检查点。</translation>
    </message>
    <message>
        <source>open a checkpoint</source>
        <translation>打开检查点</translation>
    </message>
    <message>
        <source>Save Checkpoint</source>
        <translation>保存检查点</translation>
    </message>
    <message>
        <source>The last model is kept in the run store: Runs tab ▸ Open Model brings it back</source>
        <translation>上一个模型已保存在运行记录库中：在“运行记录”页 ▸ 打开模型 即可找回</translation>
    </message>
    <message>
        <source>Unsaved Model</source>
        <translation>模型未保存</translation>
    </message>
    <message>
        <source>The trained model has not been saved. Save it before you %1?</source>
        <translation>训练好的模型还没有保存。要在%1之前先保存吗？</translation>
    </message>
    <message>
        <source>Start Training</source>
        <translation>开始训练</translation>
    </message>
    <message>
        <source>start a new run</source>
        <translation>开始新的运行</translation>
    </message>
    <message>
        <source>Could not start training: %1</source>
        <translation>无法开始训练：%1</translation>
    </message>
    <message>
        <source>The best-validation weights (epoch %1) are in use: Predictions, Classify, Explain and Save</source>
        <translation>正在使用最佳验证权重（第 %1 轮）：预测、分类、逐步解释和保存都用它们</translation>
    </message>
    <message>
        <source>The final weights are in use again</source>
        <translation>已重新使用最终权重</translation>
    </message>
    <message>
        <source>Resume Training</source>
        <translation>继续训练</translation>
    </message>
    <message>
        <source>“%1” has finished all %2 epochs it was set to train.
Train how many more epochs?</source>
        <translation>“%1”已经训练完设定的全部 %2 轮。
再训练多少轮？</translation>
    </message>
    <message>
        <source>New Sweep</source>
        <translation>新建超参数搜索</translation>
    </message>
    <message>
        <source>A sweep is already running: cancel it first.</source>
        <translation>已有超参数搜索在运行：请先取消它。</translation>
    </message>
    <message>
        <source>Open a dataset first.</source>
        <translation>请先打开数据集。</translation>
    </message>
    <message>
        <source>Cannot use that run's settings: %1</source>
        <translation>无法使用该运行的设置：%1</translation>
    </message>
    <message>
        <source>Settings filled in from the run: press Start Training (Ctrl+R)</source>
        <translation>已按该运行填好设置：按“开始训练”（Ctrl+R）</translation>
    </message>
    <message>
        <source>Reset Weights</source>
        <translation>重置权重</translation>
    </message>
    <message>
        <source>reset the weights</source>
        <translation>重置权重</translation>
    </message>
    <message>
        <source>Weights reset: a fresh untrained model. Train, or train one step.</source>
        <translation>权重已重置：这是一个未训练的新模型。可以训练，或只训练一步。</translation>
    </message>
    <message>
        <source>Training Diverged</source>
        <translation>训练发散</translation>
    </message>
    <message>
        <source>Training %1. The curves keep what they had; the model keeps its last good weights.</source>
        <translation>训练 %1。曲线保留已有的部分；模型保留最后一次正常的权重。</translation>
    </message>
    <message>
        <source>Training Failed</source>
        <translation>训练失败</translation>
    </message>
    <message>
        <source>Training %1</source>
        <translation>训练 %1</translation>
    </message>
    <message>
        <source>test accuracy %1%</source>
        <translation>测试准确率 %1%</translation>
    </message>
    <message>
        <source>no test split</source>
        <translation>没有测试集</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>Classify Images</source>
        <translation>分类图片</translation>
    </message>
    <message>
        <source>%1: cannot write here (%2)</source>
        <translation>%1：无法写入这里（%2）</translation>
    </message>
    <message>
        <source>Exported %1</source>
        <translation>已导出 %1</translation>
    </message>
    <message>
        <source>Load Your Functions</source>
        <translation>加载你的函数</translation>
    </message>
    <message>
        <source>The next run trains with your functions (engine: user)</source>
        <translation>下一次训练将使用你的函数（引擎：user）</translation>
    </message>
    <message>
        <source>Open a dataset: the next run trains with your functions (engine: user)</source>
        <translation>请打开数据集：下一次训练将使用你的函数（引擎：user）</translation>
    </message>
    <message>
        <source>Check a Class: the folder of submissions</source>
        <translation>检查全班作业：作业所在的文件夹</translation>
    </message>
    <message>
        <source>Import a Run</source>
        <translation>导入一次运行</translation>
    </message>
    <message>
        <source>Logs and CSV files (*.log *.txt *.csv);;All files (*)</source>
        <translation>日志和 CSV 文件 (*.log *.txt *.csv);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Runs are not recorded: %1</source>
        <translation>运行没有被记录：%1</translation>
    </message>
    <message>
        <source>Imported %1 as run #%2 (%3 epochs)</source>
        <translation>已将 %1 导入为第 %2 号运行（%3 轮）</translation>
    </message>
    <message>
        <source>Run Store</source>
        <translation>运行记录库</translation>
    </message>
    <message>
        <source>Record runs in this file or database URL (empty: the default, %1):</source>
        <translation>把运行记录保存在这个文件或数据库 URL 中（留空：默认位置 %1）：</translation>
    </message>
    <message>
        <source>Runs are recorded in %1</source>
        <translation>运行记录保存在 %1</translation>
    </message>
    <message>
        <source>Keyboard Shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>About Backprop Studio</source>
        <translation>关于 Backprop Studio</translation>
    </message>
    <message>
        <source>Train and inspect multilayer perceptrons whose every backward pass is written by hand — custom torch.autograd.Functions and a pure-NumPy engine.</source>
        <translation>训练并检查每一步反向传播都由手写实现的多层感知机——自定义 torch.autograd.Function 与纯 NumPy 引擎。</translation>
    </message>
    <message>
        <source>Drop images on the window to classify them; drop a checkpoint to open it.</source>
        <translation>把图片拖到窗口上即可分类；把检查点拖进来即可打开。</translation>
    </message>
    <message>
        <source>Some hyperparameters are invalid: %1</source>
        <translation>有些超参数无效：%1</translation>
    </message>
    <message>
        <source>The language changes at the next launch of Backprop Studio.</source>
        <translation>界面语言将在下次启动 Backprop Studio 时生效。</translation>
    </message>
    <message>
        <source>A training run is in progress (paused while you decide). Stop it and quit?

Save stops the run and saves the model first; Discard stops it and quits without saving.</source>
        <translation>正在训练（在你决定前已暂停）。停止训练并退出吗？

“保存”会停止训练并先保存模型；“放弃”会停止训练并直接退出，不保存。</translation>
    </message>
    <message>
        <source>The trained model has not been saved. Save it before you quit?</source>
        <translation>训练好的模型尚未保存。退出前要保存吗？</translation>
    </message>
    <message>
        <source>Training in Progress</source>
        <translation>正在训练</translation>
    </message>
</context>
<context>
    <name>Menus</name>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open Checkpoint…</source>
        <translation>打开检查点(&amp;O)…</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Save Checkpoint</source>
        <translation>保存检查点(&amp;S)</translation>
    </message>
    <message>
        <source>Save Checkpoint &amp;As…</source>
        <translation>检查点另存为(&amp;A)…</translation>
    </message>
    <message>
        <source>Recover Autosaved Model</source>
        <translation>恢复自动保存的模型</translation>
    </message>
    <message>
        <source>The best-validation weights of the last run</source>
        <translation>上一次运行中验证准确率最高时的权重</translation>
    </message>
    <message>
        <source>Open &amp;Dataset…</source>
        <translation>打开数据集(&amp;D)…</translation>
    </message>
    <message>
        <source>Use &amp;Built-in Letters</source>
        <translation>使用内置字母数据(&amp;B)</translation>
    </message>
    <message>
        <source>Load Your &amp;Functions…</source>
        <translation>加载你的函数(&amp;F)…</translation>
    </message>
    <message>
        <source>Your own backward passes, to check and train</source>
        <translation>你自己写的反向传播，用来检查和训练</translation>
    </message>
    <message>
        <source>Check a &amp;Class…</source>
        <translation>检查全班作业(&amp;C)…</translation>
    </message>
    <message>
        <source>Every student's functions in a folder of submissions, checked, as a gradebook (for teachers)</source>
        <translation>检查作业文件夹中每个学生的函数，生成成绩册（供教师使用）</translation>
    </message>
    <message>
        <source>&amp;Import a Run…</source>
        <translation>导入一次运行(&amp;I)…</translation>
    </message>
    <message>
        <source>A run made elsewhere, from its printed log or a CSV of per-epoch metrics, into the run store</source>
        <translation>把在别处完成的运行（它打印的日志，或每轮指标的 CSV）导入运行记录库</translation>
    </message>
    <message>
        <source>&amp;Classify Images…</source>
        <translation>分类图片(&amp;C)…</translation>
    </message>
    <message>
        <source>&amp;Export</source>
        <translation>导出(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Plots as PNG or SVG…</source>
        <translation>曲线图导出为 PNG 或 SVG(&amp;P)…</translation>
    </message>
    <message>
        <source>&amp;Curves as CSV…</source>
        <translation>曲线数据导出为 CSV(&amp;C)…</translation>
    </message>
    <message>
        <source>&amp;Misclassified Images as Contact Sheet…</source>
        <translation>错分图片导出为缩略图总览(&amp;M)…</translation>
    </message>
    <message>
        <source>Model as &amp;ONNX…</source>
        <translation>模型导出为 ONNX(&amp;O)…</translation>
    </message>
    <message>
        <source>For Netron and onnxruntime</source>
        <translation>用于 Netron 和 onnxruntime</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Train</source>
        <translation>训练(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Start Training</source>
        <translation>开始训练(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Resume Training</source>
        <translation>继续训练(&amp;R)</translation>
    </message>
    <message>
        <source>Continue training the open model</source>
        <translation>继续训练当前打开的模型</translation>
    </message>
    <message>
        <source>Train &amp;One Step</source>
        <translation>训练一步(&amp;O)</translation>
    </message>
    <message>
        <source>Train the open model for one step</source>
        <translation>把当前模型训练一步</translation>
    </message>
    <message>
        <source>Reset &amp;Weights</source>
        <translation>重置权重(&amp;W)</translation>
    </message>
    <message>
        <source>A fresh untrained model</source>
        <translation>一个未训练的新模型</translation>
    </message>
    <message>
        <source>&amp;Pause / Resume</source>
        <translation>暂停 / 继续(&amp;P)</translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <source>Use &amp;Best-Validation Weights</source>
        <translation>使用最佳验证权重(&amp;B)</translation>
    </message>
    <message>
        <source>Predictions, Classify, Explain and Save use the weights of the run's best validation epoch</source>
        <translation>预测、分类、逐步解释和保存都使用该运行验证准确率最高那一轮的权重</translation>
    </message>
    <message>
        <source>&amp;Evaluate Model</source>
        <translation>评估模型(&amp;E)</translation>
    </message>
    <message>
        <source>Evaluate on the chosen split</source>
        <translation>在所选数据划分上评估</translation>
    </message>
    <message>
        <source>New S&amp;weep…</source>
        <translation>新建超参数搜索(&amp;W)…</translation>
    </message>
    <message>
        <source>Many configurations × seeds on worker processes</source>
        <translation>在工作进程上运行多组配置 × 多个随机种子</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Log-scale Loss</source>
        <translation>对数刻度损失(&amp;L)</translation>
    </message>
    <message>
        <source>Show Le&amp;gends</source>
        <translation>显示图例(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Clear Earlier Runs</source>
        <translation>清除之前的运行(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>T&amp;ools</source>
        <translation>工具(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Gradient Check</source>
        <translation>梯度检查(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Run Store Location…</source>
        <translation>运行记录库位置(&amp;R)…</translation>
    </message>
    <message>
        <source>The file or database URL runs are recorded in</source>
        <translation>记录运行的文件或数据库 URL</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Keyboard Shortcuts</source>
        <translation>键盘快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>&amp;About Backprop Studio</source>
        <translation>关于 Backprop Studio(&amp;A)</translation>
    </message>
    <message>
        <source>Switch view: %1</source>
        <translation>切换视图：%1</translation>
    </message>
    <message>
        <source>Functions tab: import your files again and re-check every op</source>
        <translation>“你的函数”页：重新导入文件并检查每个算子</translation>
    </message>
    <message>
        <source>Internals ▸ Explain: the previous / next step of the backward pass</source>
        <translation>网络内部 ▸ 逐步解释：反向传播的上一步 / 下一步</translation>
    </message>
</context>
<context>
    <name>NetworkPanel</name>
    <message>
        <source>Open or train a model. Units are coloured by their activation on the Explain tab's image.</source>
        <translation>打开或训练一个模型。神经元按其在“逐步解释”页图片上的激活值着色。</translation>
    </message>
    <message>
        <source>%1 strongest connections of the units shown (orange +, blue −, width |w|)</source>
        <translation>所显示神经元之间最强的 %1 条连接（橙色为正，蓝色为负，线宽表示 |w|）</translation>
    </message>
    <message>
        <source>; units coloured by their activation on the Explain tab's image</source>
        <translation>；神经元按其在“逐步解释”页图片上的激活值着色</translation>
    </message>
    <message>
        <source>input</source>
        <translation>输入</translation>
    </message>
    <message>
        <source>output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>hidden %1</source>
        <translation>隐藏层 %1</translation>
    </message>
    <message>
        <source> (%1 shown)</source>
        <translation>（显示 %1 个）</translation>
    </message>
</context>
<context>
    <name>NewSweepDialog</name>
    <message>
        <source>New Sweep</source>
        <translation>新建超参数搜索</translation>
    </message>
    <message>
        <source>One hyperparameter per line: a list (momentum=0.88,0.9) or a range (lr=1e-4..1e-1:5:log)</source>
        <translation>每行一个超参数：列表（momentum=0.88,0.9）或范围（lr=1e-4..1e-1:5:log）</translation>
    </message>
    <message>
        <source>Epochs of every trial (the panel's to begin with)</source>
        <translation>每个试验的轮数（初始为面板中的值）</translation>
    </message>
    <message>
        <source>Every trial starts from:</source>
        <translation>每个试验的起始设置：</translation>
    </message>
    <message>
        <source>Epochs:</source>
        <translation>轮数：</translation>
    </message>
    <message>
        <source>Swept hyperparameters:</source>
        <translation>要搜索的超参数：</translation>
    </message>
    <message>
        <source>Seeds:</source>
        <translation>随机种子：</translation>
    </message>
    <message>
        <source>Search:</source>
        <translation>搜索方式：</translation>
    </message>
    <message>
        <source>Configurations (random, TPE):</source>
        <translation>配置数（random、TPE）：</translation>
    </message>
    <message>
        <source>Stop poor trials early:</source>
        <translation>提前停止表现差的试验：</translation>
    </message>
    <message>
        <source>Workers:</source>
        <translation>工作进程数：</translation>
    </message>
    <message>
        <source>Start Sweep</source>
        <translation>开始搜索</translation>
    </message>
    <message>
        <source>%1 · batch %2 · engine %3 · preset %4</source>
        <translation>%1 · 批大小 %2 · 引擎 %3 · 预设 %4</translation>
    </message>
    <message>
        <source>Every trial trains with your own functions (engine user).</source>
        <translation>每个试验都用你自己的函数训练（引擎 user）。</translation>
    </message>
</context>
<context>
    <name>PredictionBrowser</name>
    <message>
        <source>Evaluate</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>Run the current model on the chosen split</source>
        <translation>在所选数据划分上运行当前模型</translation>
    </message>
    <message>
        <source>Misclassified only</source>
        <translation>只看分错的</translation>
    </message>
    <message>
        <source>Show all</source>
        <translation>全部显示</translation>
    </message>
    <message>
        <source>Train or open a model to see its predictions.</source>
        <translation>训练或打开一个模型以查看它的预测。</translation>
    </message>
    <message>
        <source>Split</source>
        <translation>数据划分</translation>
    </message>
    <message>
        <source>Sort</source>
        <translation>排序</translation>
    </message>
    <message>
        <source>&lt;b&gt;What the network sees&lt;/b&gt;</source>
        <translation>&lt;b&gt;网络看到的输入&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Explain This Image</source>
        <translation>解释这张图片</translation>
    </message>
    <message>
        <source>Its forward and backward pass, step by step (Internals ▸ Explain)</source>
        <translation>逐步展示它的前向和反向传播（网络内部 ▸ 逐步解释）</translation>
    </message>
    <message>
        <source>accuracy (hatched: no images of the class in this split)</source>
        <translation>准确率（斜线：该划分中没有这一类的图片）</translation>
    </message>
    <message>
        <source>rows: &lt;b&gt;true&lt;/b&gt; class ↓ · columns: &lt;b&gt;predicted&lt;/b&gt; class →</source>
        <translation>行：&lt;b&gt;真实&lt;/b&gt;类别 ↓ · 列：&lt;b&gt;预测&lt;/b&gt;类别 →</translation>
    </message>
    <message>
        <source>Confusion matrix</source>
        <translation>混淆矩阵</translation>
    </message>
    <message>
        <source>Per-class accuracy</source>
        <translation>各类别准确率</translation>
    </message>
    <message>
        <source>Evaluating on %1…</source>
        <translation>正在 %1 上评估…</translation>
    </message>
    <message>
        <source>Training: the predictions show when the run ends (or press Evaluate).</source>
        <translation>正在训练：运行结束后显示预测（或点“评估”）。</translation>
    </message>
    <message>
        <source>Evaluating…</source>
        <translation>正在评估…</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt; on %2: %3 images, accuracy &lt;b&gt;%4%&lt;/b&gt;</source>
        <translation>&lt;b&gt;%1&lt;/b&gt; 在 %2 上：%3 张图片，准确率 &lt;b&gt;%4%&lt;/b&gt;</translation>
    </message>
    <message>
        <source>The dataset has no %1 images.</source>
        <translation>数据集中没有 %1 图片。</translation>
    </message>
    <message>
        <source>n/a</source>
        <translation>无</translation>
    </message>
    <message>
        <source>true %1 → predicted %2</source>
        <translation>真实 %1 → 预测 %2</translation>
    </message>
    <message>
        <source>✓ correct</source>
        <translation>✓ 正确</translation>
    </message>
    <message>
        <source>✗ wrong</source>
        <translation>✗ 错误</translation>
    </message>
    <message>
        <source>%1 (%2×%3 input)&lt;br&gt;true &lt;b&gt;%4&lt;/b&gt;, predicted &lt;b&gt;%5&lt;/b&gt; — %6</source>
        <translation>%1（%2×%3 输入）&lt;br&gt;真实 &lt;b&gt;%4&lt;/b&gt;，预测 &lt;b&gt;%5&lt;/b&gt; —— %6</translation>
    </message>
</context>
<context>
    <name>Report</name>
    <message>
        <source># Results exported by Backprop Studio</source>
        <translation># Backprop Studio 导出的结果</translation>
    </message>
    <message>
        <source>Runs used (%1): %2 — every one listed in `runs.csv` with its settings and results.</source>
        <translation>用到的运行（%1 次）：%2——每一次都列在 `runs.csv` 中，附有其设置和结果。</translation>
    </message>
    <message>
        <source>- `results.tex` (needs `%1`), `results.md`: accuracy per setting, mean ± sample std over seeds</source>
        <translation>- `results.tex`（需要 `%1`）、`results.md`：每种设置的准确率，多个随机种子的均值 ± 样本标准差</translation>
    </message>
    <message>
        <source>- `%1.pdf`, `%1.png` (300 dpi): %2</source>
        <translation>- `%1.pdf`、`%1.png`（300 dpi）：%2</translation>
    </message>
    <message>
        <source>- `runs.csv`, `runs.md`: every run used</source>
        <translation>- `runs.csv`、`runs.md`：用到的每一次运行</translation>
    </message>
    <message>
        <source>loss (train solid, validation dashed) above validation accuracy, mean ± std over seeds</source>
        <translation>上方为损失（实线为训练集，虚线为验证集），下方为验证集准确率，多个随机种子的均值 ± 标准差</translation>
    </message>
    <message>
        <source>validation accuracy against the swept hyperparameter, mean ± std over seeds</source>
        <translation>验证集准确率随所搜索超参数的变化，多个随机种子的均值 ± 标准差</translation>
    </message>
</context>
<context>
    <name>RunControls</name>
    <message>
        <source>Train</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Start training a new model (Ctrl+R, F5)</source>
        <translation>开始训练一个新模型（Ctrl+R、F5）</translation>
    </message>
    <message>
        <source>Pause or resume (Space)</source>
        <translation>暂停或继续（空格）</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop after the current step (Esc)</source>
        <translation>在当前这一步之后停止（Esc）</translation>
    </message>
    <message>
        <source>One step</source>
        <translation>训练一步</translation>
    </message>
    <message>
        <source>Train the open model for exactly one step, then stop (Ctrl+T)</source>
        <translation>把当前模型恰好训练一步后停止（Ctrl+T）</translation>
    </message>
    <message>
        <source>Reset weights</source>
        <translation>重置权重</translation>
    </message>
    <message>
        <source>A fresh, untrained model from the hyperparameters (Ctrl+Shift+T)</source>
        <translation>按当前超参数新建一个未训练的模型（Ctrl+Shift+T）</translation>
    </message>
    <message>
        <source>run name (made from its settings if empty)</source>
        <translation>运行名称（留空则按设置自动生成）</translation>
    </message>
    <message>
        <source>The run's name: shown in legends, saved in its checkpoint</source>
        <translation>运行名称：显示在图例中，并保存在检查点里</translation>
    </message>
    <message>
        <source>Ready.</source>
        <translation>就绪。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Run&lt;/b&gt;</source>
        <translation>&lt;b&gt;运行&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Failed.</source>
        <translation>失败。</translation>
    </message>
    <message>
        <source>Paused — Space resumes.</source>
        <translation>已暂停——按空格继续。</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>, test accuracy %1%</source>
        <translation>，测试准确率 %1%</translation>
    </message>
    <message>
        <source>trained %1</source>
        <translation>已训练：%1</translation>
    </message>
    <message>
        <source>untrained</source>
        <translation>未训练</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt;: %2, %3%4.%5</source>
        <translation>&lt;b&gt;%1&lt;/b&gt;：%2，%3%4。%5</translation>
    </message>
    <message>
        <source>epoch %1, step %2</source>
        <translation>第 %1 轮第 %2 步</translation>
    </message>
    <message>
        <source>epoch %1</source>
        <translation>第 %1 轮</translation>
    </message>
    <message>
        <source>Resuming at %1, to epoch %2…</source>
        <translation>从%1继续，训练到第 %2 轮…</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>Epoch %1/%2 · step %3/%4
%5 samples/s · ETA epoch %6 · run %7</source>
        <translation>第 %1/%2 轮 · 第 %3/%4 步
每秒 %5 个样本 · 本轮剩余 %6 · 全程剩余 %7</translation>
    </message>
    <message>
        <source>Validation: loss %1, accuracy %2% (best %3% at epoch %4)</source>
        <translation>验证集：损失 %1，准确率 %2%（最佳 %3%，在第 %4 轮）</translation>
    </message>
    <message>
        <source>Train: loss %1, accuracy %2%</source>
        <translation>训练集：损失 %1，准确率 %2%</translation>
    </message>
    <message>
        <source>&lt;b&gt;Warning&lt;/b&gt;: %1</source>
        <translation>&lt;b&gt;警告&lt;/b&gt;：%1</translation>
    </message>
    <message>
        <source>Failed: %1.</source>
        <translation>失败：%1。</translation>
    </message>
    <message>
        <source>test accuracy %1%</source>
        <translation>测试准确率 %1%</translation>
    </message>
    <message>
        <source>no test split</source>
        <translation>没有测试集</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>%1 in %2.</source>
        <translation>%1，用时 %2。</translation>
    </message>
    <message>
        <source>One step: %1.</source>
        <translation>一步：%1。</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt;: %2.</source>
        <translation>&lt;b&gt;%1&lt;/b&gt;：%2。</translation>
    </message>
</context>
<context>
    <name>RunsView</name>
    <message>
        <source>id</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>dataset</source>
        <translation>数据集</translation>
    </message>
    <message>
        <source>optimizer</source>
        <translation>优化器</translation>
    </message>
    <message>
        <source>lr</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>wd</source>
        <translation>权重衰减</translation>
    </message>
    <message>
        <source>hidden</source>
        <translation>隐藏层</translation>
    </message>
    <message>
        <source>seed</source>
        <translation>种子</translation>
    </message>
    <message>
        <source>epochs</source>
        <translation>轮数</translation>
    </message>
    <message>
        <source>val acc</source>
        <translation>验证准确率</translation>
    </message>
    <message>
        <source>best val</source>
        <translation>最佳验证</translation>
    </message>
    <message>
        <source>test acc</source>
        <translation>测试准确率</translation>
    </message>
    <message>
        <source>test @ best</source>
        <translation>最佳时测试</translation>
    </message>
    <message>
        <source>time</source>
        <translation>用时</translation>
    </message>
    <message>
        <source>tags</source>
        <translation>标签</translation>
    </message>
    <message>
        <source>note</source>
        <translation>备注</translation>
    </message>
    <message>
        <source>started</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>diverged</source>
        <translation>发散</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <source>filter: text in name, tags or note</source>
        <translation>筛选：名称、标签或备注中的文字</translation>
    </message>
    <message>
        <source>any status</source>
        <translation>任意状态</translation>
    </message>
    <message>
        <source>val acc ≥ </source>
        <translation>验证准确率 ≥ </translation>
    </message>
    <message>
        <source>Seeds as mean ± std</source>
        <translation>多种子画成均值 ± 标准差</translation>
    </message>
    <message>
        <source>Draw the selected runs of one setting (all but the seed) as their mean with a ± 1 std band</source>
        <translation>把选中运行中同一设置（除随机种子外都相同）的多次运行画成均值，并加 ± 1 个标准差的阴影带</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Read the run store again</source>
        <translation>重新读取运行记录库</translation>
    </message>
    <message>
        <source>Rename…</source>
        <translation>重命名…</translation>
    </message>
    <message>
        <source>Rename the selected run</source>
        <translation>重命名选中的运行</translation>
    </message>
    <message>
        <source>Tags…</source>
        <translation>标签…</translation>
    </message>
    <message>
        <source>Tags of the selected runs, comma-separated</source>
        <translation>选中运行的标签，用逗号分隔</translation>
    </message>
    <message>
        <source>Note…</source>
        <translation>备注…</translation>
    </message>
    <message>
        <source>A note on the selected run</source>
        <translation>给选中的运行写备注</translation>
    </message>
    <message>
        <source>Open Model</source>
        <translation>打开模型</translation>
    </message>
    <message>
        <source>Open the selected run's final checkpoint</source>
        <translation>打开选中运行的最终检查点</translation>
    </message>
    <message>
        <source>Train Again</source>
        <translation>再训练一次</translation>
    </message>
    <message>
        <source>Fill the hyperparameters with this run's</source>
        <translation>用这次运行的超参数填写面板</translation>
    </message>
    <message>
        <source>Show in Training</source>
        <translation>在训练页显示</translation>
    </message>
    <message>
        <source>Overlay these runs on the Training tab</source>
        <translation>把这些运行叠加显示在训练页上</translation>
    </message>
    <message>
        <source>Show Health</source>
        <translation>查看健康状况</translation>
    </message>
    <message>
        <source>This run's layer health in the Internals tab</source>
        <translation>在“网络内部”页查看这次运行各层的健康状况</translation>
    </message>
    <message>
        <source>Export Rows…</source>
        <translation>导出表格…</translation>
    </message>
    <message>
        <source>The selected rows as CSV, Markdown or LaTeX</source>
        <translation>把选中的行导出为 CSV、Markdown 或 LaTeX</translation>
    </message>
    <message>
        <source>Export Curves…</source>
        <translation>导出曲线…</translation>
    </message>
    <message>
        <source>The selected runs' per-epoch curves as CSV</source>
        <translation>把选中运行的逐轮曲线导出为 CSV</translation>
    </message>
    <message>
        <source>Export for Report…</source>
        <translation>导出报告材料…</translation>
    </message>
    <message>
        <source>A folder with the results table (LaTeX, Markdown), the figures (PDF, PNG) and every selected run (CSV): the numbers of a report, traceable to their runs</source>
        <translation>一个文件夹，包含结果表（LaTeX、Markdown）、图表（PDF、PNG）和每个选中的运行（CSV）：报告中的每个数字都能追溯到对应的运行</translation>
    </message>
    <message>
        <source>Export Figure…</source>
        <translation>导出图表…</translation>
    </message>
    <message>
        <source>The selected runs' curves for a report: white, 8 pt text at 8.5 cm, seeds of one setting as mean ± std; PDF, SVG or PNG (300 dpi)</source>
        <translation>把选中运行的曲线导出为报告用图：白色背景，8.5 厘米宽时文字为 8 磅，同一设置的多个随机种子画成均值 ± 标准差；PDF、SVG 或 PNG（300 dpi）</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>删除…</translation>
    </message>
    <message>
        <source>Delete the selected runs and their checkpoints</source>
        <translation>删除选中的运行及其检查点</translation>
    </message>
    <message>
        <source>loss (train solid, validation dashed)</source>
        <translation>损失（实线：训练，虚线：验证）</translation>
    </message>
    <message>
        <source>validation accuracy</source>
        <translation>验证准确率</translation>
    </message>
    <message>
        <source>epoch</source>
        <translation>轮次</translation>
    </message>
    <message>
        <source>Runs are not recorded: %1</source>
        <translation>运行没有被记录：%1</translation>
    </message>
    <message>
        <source>any dataset</source>
        <translation>任意数据集</translation>
    </message>
    <message>
        <source>%1 runs in %2</source>
        <translation>%2 中有 %1 次运行</translation>
    </message>
    <message>
        <source>%1 (SHA-256 %2…)</source>
        <translation>%1（SHA-256 %2…）</translation>
    </message>
    <message>
        <source>Your functions:</source>
        <translation>你的函数：</translation>
    </message>
    <message>
        <source>Rename Run</source>
        <translation>重命名运行</translation>
    </message>
    <message>
        <source>Name:</source>
        <translation>名称：</translation>
    </message>
    <message>
        <source>Tags</source>
        <translation>标签</translation>
    </message>
    <message>
        <source>Tags (comma-separated):</source>
        <translation>标签（用逗号分隔）：</translation>
    </message>
    <message>
        <source>Delete Runs</source>
        <translation>删除运行</translation>
    </message>
    <message>
        <source>Delete %1 run(s) and their checkpoints from the run store? This cannot be undone.</source>
        <translation>从运行记录库中删除 %1 次运行及其检查点？此操作无法撤销。</translation>
    </message>
    <message>
        <source>%1 running run(s) were kept: stop them first</source>
        <translation>保留了 %1 个正在进行的运行：请先停止它们</translation>
    </message>
    <message>
        <source>#%1 %2 has no layer-health records (recorded without them)</source>
        <translation>#%1 %2 没有各层健康记录（记录时未收集）</translation>
    </message>
    <message>
        <source>Export Runs</source>
        <translation>导出运行</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
    <message>
        <source>Wrote %1 run(s) to %2</source>
        <translation>已把 %1 次运行写入 %2</translation>
    </message>
    <message>
        <source>Export Curves</source>
        <translation>导出曲线</translation>
    </message>
    <message>
        <source>Wrote the curves of %1 run(s) to %2</source>
        <translation>已把 %1 次运行的曲线写入 %2</translation>
    </message>
    <message>
        <source>Export Figure</source>
        <translation>导出图表</translation>
    </message>
    <message>
        <source>Wrote a figure of %1 run(s) to %2</source>
        <translation>已把 %1 次运行的图表写入 %2</translation>
    </message>
    <message>
        <source>Export for Report</source>
        <translation>导出报告材料</translation>
    </message>
    <message>
        <source>Wrote %1 files for the report to %2</source>
        <translation>已把报告用的 %1 个文件写入 %2</translation>
    </message>
</context>
<context>
    <name>Session</name>
    <message>
        <source>Open Dataset</source>
        <translation>打开数据集</translation>
    </message>
    <message>
        <source>Stop the training run before opening another dataset.</source>
        <translation>请先停止训练，再打开另一个数据集。</translation>
    </message>
    <message>
        <source>Opening %1 cancelled: the dataset open before is kept</source>
        <translation>已取消打开 %1：之前打开的数据集保持不变</translation>
    </message>
    <message>
        <source>fixed split</source>
        <translation>固定划分</translation>
    </message>
    <message>
        <source>split seed %1, val %2</source>
        <translation>划分种子 %1，验证集比例 %2</translation>
    </message>
    <message>
        <source>Opened %1: %2/%3/%4 train/val/test (%5), %6 classes, %7×%8</source>
        <translation>已打开 %1：训练/验证/测试 %2/%3/%4（%5），%6 个类别，%7×%8</translation>
    </message>
    <message>
        <source> — skipped %1 unreadable image(s): %2</source>
        <translation> —— 跳过了 %1 张无法读取的图片：%2</translation>
    </message>
    <message>
        <source>Open Checkpoint</source>
        <translation>打开检查点</translation>
    </message>
    <message>
        <source>Stop the training run before opening a checkpoint.</source>
        <translation>请先停止训练，再打开检查点。</translation>
    </message>
    <message>
        <source>Opened checkpoint %1</source>
        <translation>已打开检查点 %1</translation>
    </message>
    <message>
        <source>Save Checkpoint</source>
        <translation>保存检查点</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已保存 %1</translation>
    </message>
    <message>
        <source>Evaluate</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>Cannot evaluate on %1: %2.</source>
        <translation>无法在 %1 上评估：%2。</translation>
    </message>
    <message>
        <source>%1 has no %2 images.</source>
        <translation>%1 中没有 %2 图像。</translation>
    </message>
    <message>
        <source>Classify Images</source>
        <translation>分类图像</translation>
    </message>
    <message>
        <source>Open a checkpoint or train a model first, then drop images again.</source>
        <translation>请先打开检查点或训练一个模型，然后再拖入图像。</translation>
    </message>
    <message>
        <source>Classify once the training run has finished or been stopped.</source>
        <translation>请在训练结束或停止之后再分类。</translation>
    </message>
    <message>
        <source>No image files found in %1.</source>
        <translation>在 %1 中没有找到图像文件。</translation>
    </message>
    <message>
        <source>classifying</source>
        <translation>正在分类</translation>
    </message>
    <message>
        <source>Classified %1 image(s)</source>
        <translation>已分类 %1 张图像</translation>
    </message>
    <message>
        <source>, %1 could not be read</source>
        <translation>，%1 张无法读取</translation>
    </message>
    <message>
        <source>Classifying %1 image(s)</source>
        <translation>正在分类 %1 张图像</translation>
    </message>
</context>
<context>
    <name>SweepPanel</name>
    <message>
        <source>No sweep yet: Train ▸ New Sweep… (Ctrl+Shift+W)</source>
        <translation>还没有超参数搜索：训练 ▸ 新建超参数搜索…（Ctrl+Shift+W）</translation>
    </message>
    <message>
        <source>%v / %m trials</source>
        <translation>%v / %m 个试验</translation>
    </message>
    <message>
        <source>Cancel Sweep</source>
        <translation>取消搜索</translation>
    </message>
    <message>
        <source>Export Table…</source>
        <translation>导出表格…</translation>
    </message>
    <message>
        <source>The results table as Markdown, LaTeX (booktabs) or CSV</source>
        <translation>将结果表导出为 Markdown、LaTeX（booktabs）或 CSV</translation>
    </message>
    <message>
        <source>trials: validation accuracy</source>
        <translation>各试验的验证准确率</translation>
    </message>
    <message>
        <source>epoch</source>
        <translation>轮次</translation>
    </message>
    <message>
        <source>parallel coordinates</source>
        <translation>平行坐标</translation>
    </message>
    <message>
        <source>One line per configuration; blue → red: low → high accuracy</source>
        <translation>每个配置一条线；蓝 → 红：准确率低 → 高</translation>
    </message>
    <message>
        <source>parameter importance (PED-ANOVA)</source>
        <translation>超参数重要性（PED-ANOVA）</translation>
    </message>
    <message>
        <source>%1: preparing %2 trials…</source>
        <translation>%1：正在准备 %2 个试验…</translation>
    </message>
    <message>
        <source> — cancelling</source>
        <translation> —— 正在取消</translation>
    </message>
    <message>
        <source>%1: %2 configurations × %3 seeds</source>
        <translation>%1：%2 组配置 × %3 个随机种子</translation>
    </message>
    <message>
        <source>base settings</source>
        <translation>基础设置</translation>
    </message>
    <message>
        <source>%1: epoch %2, accuracy %3%</source>
        <translation>%1：第 %2 轮，准确率 %3%</translation>
    </message>
    <message>
        <source>, ETA %1</source>
        <translation>，剩余 %1</translation>
    </message>
    <message>
        <source>%v / %m trials (%1 running%2)</source>
        <translation>%v / %m 个试验（%1 个运行中%2）</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>stopped: %1</source>
        <translation>已停止：%1</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <source>test acc (%)</source>
        <translation>测试准确率（%）</translation>
    </message>
    <message>
        <source>runs</source>
        <translation>运行数</translation>
    </message>
    <message>
        <source>Export Sweep Table</source>
        <translation>导出超参数搜索表</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
    <message>
        <source>Wrote the table to %1</source>
        <translation>表格已写入 %1</translation>
    </message>
    <message>
        <source>val acc</source>
        <translation>验证准确率</translation>
    </message>
</context>
<context>
    <name>TrainingPlots</name>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>epoch</source>
        <translation>轮次</translation>
    </message>
    <message>
        <source>train loss (per step)</source>
        <translation>训练损失（每步）</translation>
    </message>
    <message>
        <source>train loss (smoothed)</source>
        <translation>训练损失（平滑）</translation>
    </message>
    <message>
        <source>train loss (epoch)</source>
        <translation>训练损失（每轮）</translation>
    </message>
    <message>
        <source>validation loss</source>
        <translation>验证损失</translation>
    </message>
    <message>
        <source>train accuracy</source>
        <translation>训练准确率</translation>
    </message>
    <message>
        <source>validation accuracy</source>
        <translation>验证准确率</translation>
    </message>
    <message>
        <source>best val</source>
        <translation>最佳验证</translation>
    </message>
    <message>
        <source>Smoothing of the per-step loss (exponential moving average, as TensorBoard)</source>
        <translation>每步损失的平滑（指数移动平均，同 TensorBoard）</translation>
    </message>
    <message>
        <source>Horizontal axis: epochs, optimisation steps or seconds of training</source>
        <translation>横轴：训练轮次、优化步数或训练秒数</translation>
    </message>
    <message>
        <source>Log loss</source>
        <translation>对数损失</translation>
    </message>
    <message>
        <source>Log-scale loss axis (Ctrl+L)</source>
        <translation>损失轴使用对数刻度（Ctrl+L）</translation>
    </message>
    <message>
        <source>Legend</source>
        <translation>图例</translation>
    </message>
    <message>
        <source>Keep earlier runs</source>
        <translation>保留之前的运行</translation>
    </message>
    <message>
        <source>Keep earlier runs faint underneath, labelled by run name</source>
        <translation>把之前的运行淡淡地画在下面，并标注运行名称</translation>
    </message>
    <message>
        <source>Seeds as mean ± std</source>
        <translation>多个种子画成均值 ± 标准差</translation>
    </message>
    <message>
        <source>Draw runs of one setting (all but the seed) as their mean per epoch with a ± 1 sample-std band, this run included</source>
        <translation>把同一设置（只有随机种子不同）的运行画成每轮的均值，并加上 ± 1 个样本标准差的阴影带（包括这次运行）</translation>
    </message>
    <message>
        <source>Clear earlier</source>
        <translation>清除之前的</translation>
    </message>
    <message>
        <source>Remove the earlier runs' curves</source>
        <translation>删除之前运行的曲线</translation>
    </message>
    <message>
        <source>Smoothing</source>
        <translation>平滑</translation>
    </message>
    <message>
        <source>x</source>
        <translation>横轴</translation>
    </message>
    <message>
        <source>earlier run</source>
        <translation>之前的运行</translation>
    </message>
    <message>
        <source>▲ off scale: loss reached %1</source>
        <translation>▲ 超出坐标范围：损失达到 %1</translation>
    </message>
    <message>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <source>wall time (s)</source>
        <translation>训练时间（秒）</translation>
    </message>
</context>
<context>
    <name>UnitsPanel</name>
    <message>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <source>Hidden layer</source>
        <translation>隐藏层</translation>
    </message>
    <message>
        <source>unit</source>
        <translation>神经元</translation>
    </message>
    <message>
        <source>weights (first layer: at the input's size)</source>
        <translation>权重（第一层：按输入的尺寸显示）</translation>
    </message>
    <message>
        <source>the 9 training images that activate it most</source>
        <translation>使它激活最强的 9 张训练图像</translation>
    </message>
    <message>
        <source>Open a dataset and a model first.</source>
        <translation>请先打开数据集和模型。</translation>
    </message>
    <message>
        <source>layer %1 unit %2: its top images are labelled %3</source>
        <translation>第 %1 层第 %2 个神经元：最能激活它的图片的标签是 %3</translation>
    </message>
</context>
<context>
    <name>WeightsPanel</name>
    <message>
        <source>Train or open a model to see what each first-layer unit responds to.</source>
        <translation>训练或打开一个模型，查看第一层每个神经元对什么有响应。</translation>
    </message>
    <message>
        <source>%1 hidden units × %2×%3 inputs. Red: positive weight, blue: negative (each unit scaled to its own largest |weight|).</source>
        <translation>%1 个隐藏神经元 × %2×%3 个输入。红色：正权重，蓝色：负权重（每个神经元按自身最大的 |权重| 缩放）。</translation>
    </message>
</context>
</TS>